-- placeholder: replaced by the real demonstration
CREATE EXTENSION audit_chain;
SELECT audit_chain.version();
