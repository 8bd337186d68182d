#!/usr/bin/env python3
"""Reference verifier of audit_chain exports, written from the hash specification in README.md alone.

An independent implementation of the hash specification (format 2) in Python 3 with the
standard library only; it shares no code with the C++ core. Same contract as the C++ tool
audit_chain_verify_export:

    reference_verifier.py [--digest FILE] [FILE|-]
        Verifies JSON lines, one value of audit_chain.events_export per line, in any order
        (psql -At -c "SELECT event FROM audit_chain.events_export ORDER BY chain_id, seq").
        Every chain is checked from its genesis: positions 1..n without gaps or duplicates,
        every hash recomputed, committed_at never decreasing. With --digest, a value of
        audit_chain.digest() is checked: its own digest hash, and that each head it names is
        in the export with that hash. Prints one line per chain, a "digest:" line, then
        "valid" or "INVALID: <reason>". Exit status 0 valid, 1 invalid, 2 usage/parse error.

    reference_verifier.py --vectors test/vectors/hash_vectors.json
        Recomputes every intermediate value of the published test vectors and verifies
        their chains and digest.

    reference_verifier.py --self-test
        Checks this implementation's primitives against hand-computed values.

JSON numbers are kept as the literal text PostgreSQL printed (1.50 stays "1.50"): they are
never converted to int or float, because the hash covers the literal.

Format 2 commits each context attribute separately, like a details member, under the
context's own salt (context_salt), so that one attribute (an email used as actor_id, a client
address) can be erased: the context then has no salt and an erasure record (context_erasure)
keyed by attribute name, and its hash does not change.
"""

import hashlib
import json
import re
import sys

DIGEST_FORMAT = "audit_chain.digest.v1"
ERASED_MARKER = "[ERASED]"  # what audit_chain.erase() leaves in place of an erased value
# ... or, where the value named a row, a pseudonym that keeps erased rows apart
ERASED_PSEUDONYM = re.compile(r"\[ERASED:[0-9a-f]{16}\]\Z")
MAX_U32 = 2**32 - 1
MAX_U64 = 2**64 - 1

# ---------------------------------------------------------------------------- JSON input


class ParseError(Exception):
    """The input is not in the export (or digest) form: exit status 2."""


class Number(str):
    """A JSON number, kept as its literal text."""


_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?\Z")
_INTEGER = re.compile(r"-?(0|[1-9][0-9]*)\Z")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_HEX = re.compile(r"[0-9a-fA-F]*\Z")
_UNIT_INDEX = re.compile(r"(0|[1-9][0-9]*)\Z")


def _number(literal):
    if not _NUMBER.match(literal):
        raise ValueError("invalid number " + literal)
    return Number(literal)


def _reject_constant(name):
    raise ValueError("not JSON: " + name)


def _check_strings(value):
    """Rejects what no PostgreSQL text can hold: U+0000 and unpaired surrogates."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                stack.append(k)
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str) and not isinstance(v, Number):
            if "\x00" in v:
                raise ValueError("\\u0000 in a string")
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("unpaired surrogate in a string")


def parse_json(text):
    """Parses strict JSON; numbers become Number, a repeated key keeps its last value."""
    try:
        value = json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_reject_constant,
                           object_pairs_hook=dict)
        _check_strings(value)
        return value
    except (ValueError, RecursionError) as e:
        raise ParseError("invalid JSON text: %s" % e)


# ---------------------------------------------------------------------------- encoding


def u8(v):
    return bytes([v])


def u32(v):
    return v.to_bytes(4, "big")


def u64(v):
    return v.to_bytes(8, "big")


def i64(v):
    return (v & MAX_U64).to_bytes(8, "big")


def utf8(s):
    return s.encode("utf-8")


def s_(s):
    b = utf8(s)
    return u32(len(b)) + b


def H(b):
    return hashlib.sha256(b).digest()


def key_order(k):
    """Object keys: shorter (in UTF-8 bytes) first, then bytewise."""
    b = utf8(k)
    return (len(b), b)


def canon(v):
    if v is None:
        return b"n"
    if v is False:
        return b"f"
    if v is True:
        return b"t"
    if isinstance(v, Number):
        return b"d" + s_(str(v))
    if isinstance(v, str):
        return b"s" + s_(v)
    if isinstance(v, list):
        return b"a" + u32(len(v)) + b"".join(canon(x) for x in v)
    if isinstance(v, dict):
        keys = sorted(v, key=key_order)
        return b"o" + u32(len(keys)) + b"".join(s_(k) + canon(v[k]) for k in keys)
    raise TypeError("not a JSON value: %r" % (v,))


def uuid_bytes(text):
    return bytes.fromhex(text.replace("-", ""))


def genesis_hash(ledger, chain_id):
    return H(b"ACG1" + ledger + u32(chain_id))


def derive_value_key(salt, index):
    block = H(b"ACK1" + salt + u32(index // 2))
    return block[(index % 2) * 16:(index % 2) * 16 + 16]


class Unit:
    def __init__(self, kind, key, flags, old=None, new=None):
        self.kind = kind        # "resource_id", "column", "details" or "context"
        self.key = key          # None for the resource_id
        self.flags = flags      # 1: old value, 2: new value
        self.old = old
        self.new = new
        self.value_key = None   # from the erasure record
        self.commitment = None  # from the erasure record

    def name(self):
        return self.kind if self.key is None else "%s %s" % (self.kind, self.key)

    def holds_only_markers(self):
        """Every value the unit holds is the erasure marker (or a pseudonym)."""
        def marker(v):
            return isinstance(v, str) and not isinstance(v, Number) and (
                v == ERASED_MARKER or ERASED_PSEUDONYM.match(v) is not None)
        return (not self.flags & 1 or marker(self.old)) and (not self.flags & 2 or marker(self.new))


def commitment_bytes(key, unit):
    b = b"ACV1" + key + u8(unit.flags)
    if unit.flags & 1:
        b += canon(unit.old)
    if unit.flags & 2:
        b += canon(unit.new)
    return b


class HashProblem(Exception):
    """The event cannot be hashed as stored (reported as a malformed event)."""


# ---------------------------------------------------------------------------- erasure records


class Wording:
    """How problems of a salt and an erasure record are worded: the event's, or its context's."""

    def __init__(self, holder, record, item):
        self.holder = holder    # "it has both a salt and an erasure record"
        self.record = record    # "its erasure record holds a non-string"
        self.item = item        # "... has no key for a value that was not erased"


EVENT_WORDING = Wording("it", "its erasure record", "a value")
CONTEXT_WORDING = Wording("its context", "its context erasure record", "an attribute")
IGNORED = object()  # what find() returns for an erasure record entry to ignore


def apply_erasure_record(record, salt, units, find, w):
    """Checks that there is a salt or an erasure record (never both, never neither) and applies
    the record {"value_keys": {key: hex16}, "commitments": {key: hex32}} to units. find(key)
    gives the unit an entry's key names, IGNORED, or None where naming no unit is an error.
    Returns the problem, or None."""
    if record is None:
        return None if salt is not None else w.holder + " has neither a salt nor an erasure record"
    if not isinstance(record, dict):
        return w.record + " is not an object"
    if salt is not None:
        return w.holder + " has both a salt and an erasure record"
    for section in sorted(record, key=key_order):
        if section not in ("value_keys", "commitments"):
            continue
        entries = record[section]
        if not isinstance(entries, dict):
            return w.record + "'s \"%s\" is not an object" % section
        size = 16 if section == "value_keys" else 32
        for key in sorted(entries, key=key_order):
            unit = find(key)
            if unit is None:
                return w.record + " names a value that does not exist"
            if unit is IGNORED:
                continue
            v = entries[key]
            if not isinstance(v, str) or isinstance(v, Number):
                return w.record + " holds a non-string"
            if len(v) != 2 * size or not _HEX.match(v):
                return w.record + " holds a malformed key or commitment"
            if size == 16:
                unit.value_key = bytes.fromhex(v)
            else:
                unit.commitment = bytes.fromhex(v)
    # A key for every value kept, a commitment for every value erased, which must read
    # "[ERASED]" (or a pseudonym): nothing else in its place would be covered by the hash.
    for unit in units:
        if unit.commitment is None and unit.value_key is None:
            return w.record + " has no key for %s that was not erased" % w.item
        if unit.commitment is not None and not unit.holds_only_markers():
            return w.holder + " holds a value where one was erased"
    return None


def unit_commitment(unit, index, salt):
    """C_i of a unit (or F_i of a context field): stored if erased, else from its key."""
    if unit.commitment is not None:
        if not unit.holds_only_markers():
            raise HashProblem('an erased value is not "[ERASED]"')
        return unit.commitment
    return H(commitment_bytes(unit_value_key(unit, index, salt), unit))


def unit_value_key(unit, index, salt):
    if unit.value_key is not None:
        return unit.value_key
    if salt is None:
        raise HashProblem("a value key is missing where the salt was destroyed")
    return derive_value_key(salt, index)


# ---------------------------------------------------------------------------- contexts


class Context:
    """The context of an event: its attributes present (strings), in key order, each committed
    like a details member under the context's own salt; after erasure of an attribute, an
    erasure record keyed by attribute name instead of the salt."""

    def __init__(self, attributes, salt, erasure):
        self.fields = [Unit("context", k, 2, new=attributes[k]) for k in sorted(attributes, key=key_order)]
        self.salt = salt
        self.problem = self._check(erasure)

    def _check(self, erasure):
        # Attribute names are the specification's (actor_id, ...), never empty; the C++ tool
        # refuses an unnamed one too, and both verifiers must agree.
        if any(f.key == "" for f in self.fields):
            return "its context has an attribute without a name"
        by_name = {f.key: f for f in self.fields}
        # Names that are not an attribute of this context are ignored (the specification says so).
        return apply_erasure_record(erasure, self.salt, self.fields, lambda name: by_name.get(name, IGNORED),
                                    CONTEXT_WORDING)

    def value_key(self, index):
        return unit_value_key(self.fields[index], index, self.salt)

    def commitment(self, index):
        return unit_commitment(self.fields[index], index, self.salt)

    def bytes(self):
        if self.salt is not None and any(f.value_key is not None or f.commitment is not None for f in self.fields):
            raise HashProblem("a context with a salt carries an erasure record")
        b = bytearray(b"ACC2" + u32(len(self.fields)))
        for i, f in enumerate(self.fields):
            b += s_(f.key) + u8(2) + self.commitment(i)
        return bytes(b)

    def hash(self):
        return H(self.bytes())


# ---------------------------------------------------------------------------- events


def _field(obj, name):
    if name not in obj:
        raise ParseError('missing field "%s"' % name)
    return obj[name]


def _string(obj, name):
    v = _field(obj, name)
    if not isinstance(v, str) or isinstance(v, Number):
        raise ParseError('"%s" must be a string' % name)
    return v


def _integer(v, name, lo, hi):
    if not isinstance(v, Number) or not _INTEGER.match(v) or not lo <= int(v) <= hi:
        raise ParseError('"%s" must be an integer in range' % name)
    return int(v)


def _uuid(v, name):
    if not isinstance(v, str) or isinstance(v, Number) or not _UUID.match(v):
        raise ParseError('"%s" must be a UUID' % name)
    return uuid_bytes(v)


def _hex(v, name, size):
    if not isinstance(v, str) or isinstance(v, Number) or len(v) != 2 * size or not _HEX.match(v):
        raise ParseError('"%s" must be %d hexadecimal digits' % (name, 2 * size))
    return bytes.fromhex(v)


def _object_or_null(obj, name):
    v = _field(obj, name)
    if v is not None and not isinstance(v, dict):
        raise ParseError('"%s" must be an object or null' % name)
    return v


class Event:
    """One value of audit_chain.events_export."""

    def __init__(self, value, require_hash=True):
        if not isinstance(value, dict):
            raise ParseError("an event must be a JSON object")
        self.raw = value
        self.problem = None
        self.ledger = _uuid(_field(value, "ledger_id"), "ledger_id")
        self.chain_id = _integer(_field(value, "chain_id"), "chain_id", 0, MAX_U32)
        self.seq = _integer(_field(value, "seq"), "seq", 0, MAX_U64)
        self.commit_seq = _integer(_field(value, "commit_seq"), "commit_seq", 0, MAX_U64)
        self.committed_at = _integer(_field(value, "committed_at_us"), "committed_at_us", -2**63, 2**63 - 1)
        self.xid = _integer(_field(value, "xid"), "xid", 0, MAX_U64)
        self.event_time = _integer(_field(value, "event_time_us"), "event_time_us", -2**63, 2**63 - 1)
        self.event_id = _uuid(_field(value, "event_id"), "event_id")
        self.action = _string(value, "action")
        self.outcome = _string(value, "outcome")
        self.resource_type = None
        no_resource_type = _field(value, "resource_type") is None
        if not no_resource_type:
            self.resource_type = _string(value, "resource_type")
        self.resource_id = _field(value, "resource_id")
        if self.resource_id is not None:
            self.resource_id = _string(value, "resource_id")
        ctx = _field(value, "context")
        if not isinstance(ctx, dict) or not all(isinstance(v, str) and not isinstance(v, Number)
                                                for v in ctx.values()):
            raise ParseError('"context" must be an object of strings')
        context_salt = _field(value, "context_salt")
        context_salt = None if context_salt is None else _hex(context_salt, "context_salt", 16)
        self.context = Context(ctx, context_salt, _field(value, "context_erasure"))
        salt = _field(value, "salt")
        self.salt = None if salt is None else _hex(salt, "salt", 16)
        self.old_data = _object_or_null(value, "old_data")
        self.new_data = _object_or_null(value, "new_data")
        self.details = _object_or_null(value, "details")
        erasure = _field(value, "erasure")
        self.hash = None
        if "hash" in value or require_hash:
            self.hash = _hex(_field(value, "hash"), "hash", 32)

        # Units: resource_id, columns (union of old_data and new_data keys), details members.
        self.units = []
        if self.resource_id is not None:
            self.units.append(Unit("resource_id", None, 2, new=self.resource_id))
        old = self.old_data or {}
        new = self.new_data or {}
        self.columns = []
        for k in sorted(set(old) | set(new), key=key_order):
            flags = (1 if k in old else 0) | (2 if k in new else 0)
            unit = Unit("column", k, flags, old.get(k), new.get(k))
            self.columns.append(unit)
            self.units.append(unit)
        self.detail_units = []
        for k in sorted(self.details or {}, key=key_order):
            unit = Unit("details", k, 2, new=self.details[k])
            self.detail_units.append(unit)
            self.units.append(unit)
        # The problem reported first: the context's (as the database's verify() checks it
        # first), a missing resource_type, then the event's own salt and erasure record.
        if self.context.problem is not None:
            self.problem = self.context.problem
        elif no_resource_type:
            self.problem = "it has no resource_type"
        else:
            self.problem = apply_erasure_record(erasure, self.salt, self.units, self._unit_named, EVENT_WORDING)

    def _unit_named(self, index_text):
        """The unit an erasure record entry names: a decimal index without sign or leading zeros."""
        if not _UNIT_INDEX.match(index_text) or int(index_text) >= len(self.units):
            return None
        return self.units[int(index_text)]

    def value_key(self, index):
        return unit_value_key(self.units[index], index, self.salt)

    def commitment(self, index):
        return unit_commitment(self.units[index], index, self.salt)

    def context_hash(self):
        return self.context.hash()

    def link_bytes(self, previous):
        if self.salt is not None and any(u.value_key is not None or u.commitment is not None for u in self.units):
            raise HashProblem("an event with a salt carries an erasure record")
        b = bytearray(b"ACE1")
        b += previous
        b += u32(self.chain_id) + u64(self.seq) + u64(self.commit_seq)
        b += i64(self.committed_at) + u64(self.xid) + i64(self.event_time)
        b += self.event_id
        b += s_(self.action) + s_(self.outcome) + s_(self.resource_type)
        index = 0
        if self.resource_id is None:
            b += u8(0)
        else:
            b += u8(1) + self.commitment(0)
            index = 1
        b += self.context_hash()
        b += u8((1 if self.old_data is not None else 0) | (2 if self.new_data is not None else 0))
        b += u32(len(self.columns))
        for unit in self.columns:
            b += s_(unit.key) + u8(unit.flags) + self.commitment(index)
            index += 1
        if self.details is None:
            b += u8(0)
        else:
            b += u8(1) + u32(len(self.detail_units))
            for unit in self.detail_units:
                b += s_(unit.key) + u8(2) + self.commitment(index)
                index += 1
        return bytes(b)

    def compute_hash(self, previous):
        return H(self.link_bytes(previous))


# ---------------------------------------------------------------------------- chains


class ChainResult:
    def __init__(self, chain_id):
        self.chain_id = chain_id
        self.valid = True
        self.reason = ""
        self.hashes = []        # hash of the event at seq i + 1
        self.committed_at = []


def check_chain(chain_id, ledger, events):
    r = ChainResult(chain_id)
    c = str(chain_id)
    next_seq = 1
    last_committed = None
    previous = genesis_hash(ledger, chain_id)
    for e in sorted(events, key=lambda e: e.seq):
        s = str(e.seq)
        if e.seq > next_seq:
            r.reason = "event %d of chain %s is missing (the next event in the export is %s)" % (next_seq, c, s)
        elif e.seq < next_seq:
            r.reason = "event %s of chain %s is a duplicate or out-of-place event" % (s, c)
        elif e.problem is not None:
            r.reason = "event %s of chain %s is malformed: %s" % (s, c, e.problem)
        else:
            try:
                computed = e.compute_hash(previous)
            except HashProblem as p:
                computed = None
                r.reason = "event %s of chain %s is malformed: %s" % (s, c, p)
            if computed is not None:
                if computed != e.hash:
                    r.reason = ("event %s of chain %s does not match its hash: the event, its hash or its "
                                "predecessor was changed" % (s, c))
                elif last_committed is not None and e.committed_at < last_committed:
                    r.reason = "event %s of chain %s has a commit time earlier than its predecessor's" % (s, c)
                else:
                    r.hashes.append(computed)
                    r.committed_at.append(e.committed_at)
                    previous = computed
                    last_committed = e.committed_at
                    next_seq += 1
                    continue
        r.valid = False
        return r
    return r


class Digest:
    def __init__(self, value):
        if not isinstance(value, dict):
            raise ParseError("a digest is a JSON object")
        if _string(value, "format") != DIGEST_FORMAT:
            raise ParseError('unknown digest format; expected "%s"' % DIGEST_FORMAT)
        self.ledger = _uuid(_field(value, "ledger_id"), "ledger_id")
        heads = _field(value, "heads")
        if not isinstance(heads, list):
            raise ParseError('"heads" must be an array')
        self.heads = []
        for h in heads:
            if not isinstance(h, dict):
                raise ParseError("each head must be an object")
            self.heads.append((_integer(_field(h, "chain_id"), "chain_id", 0, MAX_U32),
                               _integer(_field(h, "seq"), "seq", 0, MAX_U64),
                               _integer(_field(h, "committed_at_us"), "committed_at_us", -2**63, 2**63 - 1),
                               _hex(_field(h, "hash"), "hash", 32)))
        self.digest = _hex(_field(value, "digest"), "digest", 32)

    def bytes(self):
        b = b"ACD1" + self.ledger + u32(len(self.heads))
        for chain_id, seq, committed_at, h in self.heads:
            b += u32(chain_id) + u64(seq) + i64(committed_at) + h
        return b


def check_digest(d, ledger, results):
    """Returns None when the digest checks out, else the reason."""
    ids = [h[0] for h in d.heads]
    if any(a >= b for a, b in zip(ids, ids[1:])):
        return "the digest is malformed: digest heads are not in ascending chain order"
    if H(d.bytes()) != d.digest:
        return "the digest value does not match its heads: the digest was altered"
    # The digest of an empty trail has a zero ledger id and binds nothing.
    if ledger is not None and d.ledger != bytes(16) and ledger != d.ledger:
        return "the digest belongs to another audit trail (ledger_id differs)"
    for chain_id, seq, committed_at, h in d.heads:
        c, s = str(chain_id), str(seq)
        r = results.get(chain_id)
        if r is None:
            return "chain %s of the digest is missing from the export: history was truncated or deleted" % c
        if seq == 0:
            return "the digest has an impossible head (seq 0) for chain " + c
        if seq > len(r.hashes):
            if not r.valid:
                return "event %s of chain %s in the digest cannot be verified: %s" % (s, c, r.reason)
            return "chain %s ends at event %d but the digest has event %s: history was truncated" % (
                c, len(r.hashes), s)
        if r.hashes[seq - 1] != h or r.committed_at[seq - 1] != committed_at:
            return "event %s of chain %s differs from the digest: history was rewritten" % (s, c)
    return None


def verify(events, digest, out):
    """Writes the report to out; returns the exit status (0 valid, 1 invalid)."""
    ledger = None
    for e in events:
        if ledger is not None and e.ledger != ledger:
            out.write("INVALID: the export holds events of more than one ledger\n")
            return 1
        ledger = e.ledger
    by_chain = {}
    for e in events:
        by_chain.setdefault(e.chain_id, []).append(e)
    results = {}
    first_reason = None
    for chain_id in sorted(by_chain):
        chain_events = by_chain[chain_id]
        r = check_chain(chain_id, chain_events[0].ledger, chain_events)
        if r.valid:
            out.write("chain %d: valid, %d events, head %d %s\n" % (chain_id, len(r.hashes), len(r.hashes),
                                                                       r.hashes[-1].hex()))
        else:
            out.write("chain %d: INVALID: %s\n" % (chain_id, r.reason))
            first_reason = first_reason or r.reason
        results[chain_id] = r
    if digest is not None:
        problem = check_digest(digest, ledger, results)
        if problem is None:
            out.write("digest: valid, %d heads\n" % len(digest.heads))
        else:
            out.write("digest: INVALID: %s\n" % problem)
            first_reason = first_reason or problem
    if first_reason is None:
        out.write("valid\n")
        return 0
    out.write("INVALID: %s\n" % first_reason)
    return 1


def read_events(data):
    """Parses JSON lines (bytes); raises ParseError naming the line."""
    events = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip(b" \t\r"):
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("line %d: not UTF-8" % number)
        try:
            events.append(Event(parse_json(text)))
        except ParseError as e:
            raise ParseError("line %d: %s" % (number, e))
    return events


# ---------------------------------------------------------------------------- vectors


def check_vectors(path, out):
    with open(path, "rb") as f:
        doc = parse_json(f.read().decode("utf-8"))
    ledger = uuid_bytes(doc["ledger_id"])
    failures = []

    def expect(what, got, want):
        if got != want:
            failures.append("%s: computed %s, expected %s" % (what, got, want))

    for g in doc["genesis"]:
        b = b"ACG1" + ledger + u32(int(g["chain_id"]))
        expect("genesis %s bytes" % g["chain_id"], b.hex(), g["bytes"])
        expect("genesis %s hash" % g["chain_id"], H(b).hex(), g["hash"])

    events = []
    previous = {}
    for v in doc["events"]:
        name = v["name"]
        x = v["expected"]
        before = len(failures)
        e = Event(v["event"])
        events.append(e)
        prev = previous.get(e.chain_id, genesis_hash(ledger, e.chain_id))
        expect(name + " previous_hash", prev.hex(), x["previous_hash"])
        if e.problem is not None:
            failures.append("%s: malformed: %s" % (name, e.problem))
            continue

        def expect_unit(what, i, unit, xu, holder, key_sources):
            expect(what + " index", i, int(xu["index"]))
            expect(what + " flags", unit.flags, int(xu["flags"]))
            if xu.get("erased"):
                expect(what + " erased", unit.commitment is not None, True)
                expect(what + " commitment", holder.commitment(i).hex(), xu["commitment"])
                return
            expect(what + " value_key_from", key_sources[unit.value_key is not None], xu["value_key_from"])
            key = holder.value_key(i)
            expect(what + " value_key", key.hex(), xu["value_key"])
            expect(what + " commitment_bytes", commitment_bytes(key, unit).hex(), xu["commitment_bytes"])
            expect(what + " commitment", holder.commitment(i).hex(), xu["commitment"])

        expect(name + " number of context fields", len(e.context.fields), len(x["context_fields"]))
        for i, (field, xf) in enumerate(zip(e.context.fields, x["context_fields"])):
            what = "%s context field %d" % (name, i)
            expect(what + " name", field.key, xf["name"])
            expect_unit(what, i, field, xf, e.context, ("context_salt", "context_erasure"))
        expect(name + " context_bytes", e.context.bytes().hex(), x["context_bytes"])
        expect(name + " context_hash", e.context_hash().hex(), x["context_hash"])
        expect(name + " number of units", len(e.units), len(x["units"]))
        for i, (unit, xu) in enumerate(zip(e.units, x["units"])):
            what = "%s unit %d" % (name, i)
            expect(what + " unit", unit.kind, xu["unit"])
            expect(what + " key", unit.key, xu.get("key"))
            expect_unit(what, i, unit, xu, e, ("salt", "erasure"))
        link = e.link_bytes(prev)
        expect(name + " event_bytes", link.hex(), x["event_bytes"])
        expect(name + " hash", H(link).hex(), x["hash"])
        expect(name + " stored hash", e.hash.hex(), x["hash"])
        previous[e.chain_id] = H(link)
        out.write("vector %s: %s\n" % (name, "ok" if len(failures) == before else "MISMATCH"))

    d = Digest(doc["digest"]["value"])
    expect("digest bytes", d.bytes().hex(), doc["digest"]["expected"]["bytes"])
    expect("digest", H(d.bytes()).hex(), doc["digest"]["expected"]["digest"])
    for f in failures:
        out.write("mismatch: %s\n" % f)
    status = verify(events, d, out)
    return 1 if failures else status


# ---------------------------------------------------------------------------- self-test


def self_test(out):
    checks = []

    def check(what, got, want):
        checks.append((what, got == want, got, want))

    v = parse_json('{"b": 1.50, "aa": [true, null, "x"], "b": 2.50, "n": 1e2}')
    check("literal kept", v["b"], "2.50")
    check("repeated key keeps the last value", len(v), 3)
    check("exponent literal kept", v["n"], "1e2")
    check("canon", canon(v).hex(),
          (b"o" + u32(3) + s_("b") + b"d" + s_("2.50") + s_("n") + b"d" + s_("1e2")
           + s_("aa") + b"a" + u32(3) + b"t" + b"n" + b"s" + s_("x")).hex())
    check("canon scalars", canon([None, False, True, Number("0"), ""]).hex(), "6100000005" "6e" "66" "74"
          "6400000001" "30" "7300000000")
    check("key order", sorted(["\u00e9", "zz", "abc", "b", "\U0001F600", "\uff21b"], key=key_order),
          ["b", "zz", "\u00e9", "abc", "\uff21b", "\U0001F600"])
    check("i64", i64(-1).hex(), "ffffffffffffffff")
    check("str", s_("\u00e9").hex(), "00000002c3a9")
    check("sha256", H(b"abc").hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    check("value key", derive_value_key(bytes(16), 3).hex(), H(b"ACK1" + bytes(16) + u32(1))[16:].hex())

    # Context hash (format 2), written out for two attributes: "reason" (6 bytes) sorts first.
    salt = bytes(range(16))
    ctx = Context({"actor_id": "a", "reason": "r"}, salt, None)
    f0 = H(b"ACV1" + H(b"ACK1" + salt + u32(0))[:16] + u8(2) + b"s" + s_("r"))
    f1 = H(b"ACV1" + H(b"ACK1" + salt + u32(0))[16:] + u8(2) + b"s" + s_("a"))
    want = b"ACC2" + u32(2) + s_("reason") + u8(2) + f0 + s_("actor_id") + u8(2) + f1
    check("context bytes", ctx.bytes().hex(), want.hex())
    check("empty context", Context({}, salt, None).hash().hex(), H(b"ACC2" + u32(0)).hex())
    # Erasing "actor_id" keeps the hash; the record is keyed by attribute name.
    k0 = H(b"ACK1" + salt + u32(0))[:16]
    erased = {"value_keys": {"reason": k0.hex(), "nobody": "ignored"}, "commitments": {"actor_id": f1.hex()}}
    for reads in ("[ERASED]", "[ERASED:0123456789abcdef]"):
        e = Context({"actor_id": reads, "reason": "r"}, None, erased)
        check("erased context %s" % reads, (e.problem, e.hash().hex()), (None, H(want).hex()))
    for attributes, salt_, record, problem in [
            ({"actor_id": "a", "reason": "r"}, None, erased, "its context holds a value where one was erased"),
            ({"actor_id": "[ERASED:0123456789ABCDEF]", "reason": "r"}, None, erased,
             "its context holds a value where one was erased"),
            ({"actor_id": "[ERASED]", "reason": "r"}, salt, erased, "its context has both a salt and an erasure record"),
            ({"actor_id": "[ERASED]", "reason": "r"}, None, None, "its context has neither a salt nor an erasure record"),
            ({"actor_id": "[ERASED]", "reason": "r"}, None, {"commitments": {"actor_id": f1.hex()}},
             "its context erasure record has no key for an attribute that was not erased"),
            ({"actor_id": "[ERASED]", "reason": "r"}, None, {"value_keys": {"reason": "g" * 32}},
             "its context erasure record holds a malformed key or commitment"),
            ({"actor_id": "[ERASED]", "reason": "r"}, None, {"value_keys": {"reason": k0.hex()[2:]}},
             "its context erasure record holds a malformed key or commitment"),
            ({"actor_id": "[ERASED]", "reason": "r"}, None, [], "its context erasure record is not an object"),
            ({"": "x"}, salt, None, "its context has an attribute without a name")]:
        check("context problem %r" % problem, Context(attributes, salt_, record).problem, problem)
    for bad in ['{"a": NaN}', "[Infinity]", '"\\ud800"', '"\\udc00x"', '"a\\u0000"', "01", "[1,]", "{'a': 1}",
                "1 2", '"\\x41"', "[" * 100000]:
        try:
            parse_json(bad)
            check("rejects %r" % bad[:20], "accepted", "rejected")
        except ParseError:
            check("rejects %r" % bad[:20], "rejected", "rejected")
    ok = True
    for what, passed, got, want in checks:
        if not passed:
            ok = False
            out.write("self-test FAILED: %s: got %r, want %r\n" % (what, got, want))
    out.write("self-test: %d checks, %s\n" % (len(checks), "ok" if ok else "FAILED"))
    return 0 if ok else 1


# ---------------------------------------------------------------------------- main

USAGE = """usage: reference_verifier.py [--digest FILE] [FILE|-]
       reference_verifier.py --vectors FILE
       reference_verifier.py --self-test
Verifies audit_chain.events_export JSON lines (one event per line, any order).
Exit status: 0 valid, 1 invalid, 2 usage or parse error.
"""


def main(argv):
    digest_path = None
    input_path = None
    vectors = None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--digest":
            if i + 1 >= len(argv):
                sys.stderr.write("reference_verifier: --digest needs a file\n" + USAGE)
                return 2
            digest_path = argv[i + 1]
            i += 1
        elif a.startswith("--digest="):
            digest_path = a[len("--digest="):]
        elif a == "--vectors":
            if i + 1 >= len(argv):
                sys.stderr.write("reference_verifier: --vectors needs a file\n" + USAGE)
                return 2
            vectors = argv[i + 1]
            i += 1
        elif a == "--self-test":
            return self_test(sys.stdout)
        elif a in ("-h", "--help"):
            sys.stdout.write(USAGE)
            return 0
        elif len(a) > 1 and a.startswith("-"):
            sys.stderr.write("reference_verifier: unknown option %s\n%s" % (a, USAGE))
            return 2
        elif input_path is not None:
            sys.stderr.write("reference_verifier: only one input file\n" + USAGE)
            return 2
        else:
            input_path = a
        i += 1

    try:
        if vectors is not None:
            return check_vectors(vectors, sys.stdout)
        if input_path is None or input_path == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(input_path, "rb") as f:
                data = f.read()
        events = read_events(data)
        digest = None
        if digest_path is not None:
            with open(digest_path, "rb") as f:
                raw = f.read()
            try:
                digest = Digest(parse_json(raw.decode("utf-8")))
            except UnicodeDecodeError:
                raise ParseError("digest: not UTF-8")
            except ParseError as e:
                raise ParseError("digest: %s" % e)
    except ParseError as e:
        sys.stderr.write("reference_verifier: parse error: %s\n" % e)
        return 2
    except OSError as e:
        sys.stderr.write("reference_verifier: %s\n" % e)
        return 2
    return verify(events, digest, sys.stdout)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
