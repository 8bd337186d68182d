#!/usr/bin/env python3
"""Reference verifier of audit_chain exports, written from the hash specification in README.md alone.

An independent implementation of the hash specification (format 1) in Python 3 with the
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


def context_bytes(ctx):
    keys = sorted(ctx, key=key_order)
    return b"ACC1" + u32(len(keys)) + b"".join(s_(k) + s_(ctx[k]) for k in keys)


def derive_value_key(salt, index):
    block = H(b"ACK1" + salt + u32(index // 2))
    return block[(index % 2) * 16:(index % 2) * 16 + 16]


class Unit:
    def __init__(self, kind, key, flags, old=None, new=None):
        self.kind = kind        # "resource_id", "column" or "details"
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
        if _field(value, "resource_type") is None:
            self.problem = "it has no resource_type"
        else:
            self.resource_type = _string(value, "resource_type")
        self.resource_id = _field(value, "resource_id")
        if self.resource_id is not None:
            self.resource_id = _string(value, "resource_id")
        ctx = _field(value, "context")
        if not isinstance(ctx, dict) or not all(isinstance(v, str) and not isinstance(v, Number)
                                                for v in ctx.values()):
            raise ParseError('"context" must be an object of strings')
        self.context = ctx
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
        # Erasure: an event keeps either its salt or an erasure record with a key for every
        # value kept and a commitment for every value erased, which must read "[ERASED]".
        if self.problem is None:
            if erasure is None:
                if self.salt is None:
                    self.problem = "it has neither a salt nor an erasure record"
            elif not isinstance(erasure, dict):
                self.problem = "its erasure record is not an object"
            elif self.salt is not None:
                self.problem = "it has both a salt and an erasure record"
            else:
                self._apply_erasure(erasure)

    def _apply_erasure(self, erasure):
        for section in sorted(erasure, key=key_order):
            if section not in ("value_keys", "commitments"):
                continue
            entries = erasure[section]
            if not isinstance(entries, dict):
                self.problem = "its erasure record's \"%s\" is not an object" % section
                return
            size = 16 if section == "value_keys" else 32
            for index_text in sorted(entries, key=key_order):
                if not _UNIT_INDEX.match(index_text) or int(index_text) >= len(self.units):
                    self.problem = "its erasure record names a value that does not exist"
                    return
                index = int(index_text)
                v = entries[index_text]
                if not isinstance(v, str) or isinstance(v, Number):
                    self.problem = "its erasure record holds a non-string"
                    return
                if len(v) != 2 * size or not _HEX.match(v):
                    self.problem = "its erasure record holds a malformed key or commitment"
                    return
                if size == 16:
                    self.units[index].value_key = bytes.fromhex(v)
                else:
                    self.units[index].commitment = bytes.fromhex(v)
        for unit in self.units:
            if unit.commitment is None and unit.value_key is None:
                self.problem = "its erasure record has no key for a value that was not erased"
                return
            if unit.commitment is not None and not unit.holds_only_markers():
                self.problem = "it holds a value where one was erased"
                return

    def value_key(self, index):
        unit = self.units[index]
        if unit.value_key is not None:
            return unit.value_key
        if self.salt is None:
            raise HashProblem("value key missing for an event without salt")
        return derive_value_key(self.salt, index)

    def commitment(self, index):
        unit = self.units[index]
        if unit.commitment is not None:
            if not unit.holds_only_markers():
                raise HashProblem('an erased value is not "[ERASED]"')
            return unit.commitment
        return H(commitment_bytes(self.value_key(index), unit))

    def context_hash(self):
        return H(context_bytes(self.context))

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
        expect(name + " context_bytes", context_bytes(e.context).hex(), x["context_bytes"])
        expect(name + " context_hash", e.context_hash().hex(), x["context_hash"])
        expect(name + " number of units", len(e.units), len(x["units"]))
        for i, (unit, xu) in enumerate(zip(e.units, x["units"])):
            what = "%s unit %d" % (name, i)
            expect(what + " index", i, int(xu["index"]))
            expect(what + " unit", unit.kind, xu["unit"])
            expect(what + " key", unit.key, xu.get("key"))
            expect(what + " flags", unit.flags, int(xu["flags"]))
            if xu.get("erased"):
                expect(what + " commitment", e.commitment(i).hex(), xu["commitment"])
                continue
            source = "erasure" if unit.value_key is not None else "salt"
            expect(what + " value_key_from", source, xu["value_key_from"])
            key = e.value_key(i)
            expect(what + " value_key", key.hex(), xu["value_key"])
            expect(what + " commitment_bytes", commitment_bytes(key, unit).hex(), xu["commitment_bytes"])
            expect(what + " commitment", e.commitment(i).hex(), xu["commitment"])
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
