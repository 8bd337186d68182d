#!/usr/bin/env python3
"""Differential test of the two standalone verifiers.

    differential_check.py CPP_TOOL VECTORS_DIR [--count N] [--seed S]

Derives many damaged variants of the published vectors (hash_vectors.jsonl and
hash_vectors_digest.json): structural edits (lines dropped, duplicated, reordered,
positions or chains renumbered, salts removed, erasure records broken, context attributes,
context salts and context erasure records edited, digests edited) and random byte edits. Each variant goes to the C++ tool (a subprocess) and to the Python
reference verifier (tools/reference_verifier.py, loaded as a module). Both must give the
same exit status, and for status 0 or 1 the same report, line for line. Exit status 0 when
they always agree; 1 otherwise (the disagreements are printed).
"""

import importlib.util
import io
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("reference_verifier", os.path.join(HERE, "reference_verifier.py"))
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)


def run_python(events, digest):
    out = io.StringIO()
    try:
        evs = ref.read_events(events)
        d = None
        if digest is not None:
            try:
                d = ref.Digest(ref.parse_json(digest.decode("utf-8")))
            except UnicodeDecodeError:
                raise ref.ParseError("digest: not UTF-8")
    except ref.ParseError:
        return 2, ""
    return ref.verify(evs, d, out), out.getvalue()


def run_cpp(tool, events, digest, tmp):
    args = [tool]
    if digest is not None:
        path = os.path.join(tmp, "digest.json")
        with open(path, "wb") as f:
            f.write(digest)
        args += ["--digest", path]
    p = subprocess.run(args, input=events, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def replace_once(line, old, new):
    return line.replace(old, new, 1) if old in line else None


def structural_variants(lines, digest):
    """(name, lines, digest) triples; lines are bytes without newlines."""
    v = []
    n = len(lines)
    v.append(("untouched", lines, digest))
    v.append(("no digest", lines, None))
    v.append(("empty export, digest", [], digest))
    v.append(("empty export", [], None))
    v.append(("reversed", lines[::-1], digest))
    for i in range(n):
        v.append(("drop line %d" % i, lines[:i] + lines[i + 1:], digest))
        v.append(("duplicate line %d" % i, lines + [lines[i]], digest))
        line = lines[i]
        edits = [
            ("salt null", lambda l: ref_sub(l, r'"salt": "[0-9a-f]{32}"', '"salt": null')),
            ("seq +10", lambda l: ref_sub(l, r'"seq": (\d+)', lambda m: '"seq": %d' % (int(m.group(1)) + 10))),
            ("seq 0", lambda l: ref_sub(l, r'"seq": \d+', '"seq": 0')),
            ("chain 9", lambda l: ref_sub(l, r'"chain_id": \d+', '"chain_id": 9')),
            ("chain too big", lambda l: ref_sub(l, r'"chain_id": \d+', '"chain_id": 4294967296')),
            ("committed_at earlier", lambda l: ref_sub(l, r'"committed_at_us": (\d+)',
                                                        lambda m: '"committed_at_us": %d' % (int(m.group(1)) - 10**9))),
            ("committed_at as decimal", lambda l: ref_sub(l, r'"committed_at_us": (\d+)', r'"committed_at_us": \1.0')),
            ("resource_type null", lambda l: ref_sub(l, r'"resource_type": "[^"]*"', '"resource_type": null')),
            ("resource_id null", lambda l: ref_sub(l, r'"resource_id": "[^"]*"', '"resource_id": null')),
            ("details empty", lambda l: replace_once(l, '"details": null', '"details": {}')),
            ("old_data empty", lambda l: replace_once(l, '"old_data": null', '"old_data": {}')),
            ("new_data null", lambda l: ref_sub(l, r'"new_data": \{', '"new_data": null, "x": {')),
            ("extra field", lambda l: l[:-1] + ', "extra": [1, 2]}'),
            ("missing hash", lambda l: ref_sub(l, r'"hash": "[0-9a-f]{64}", ', '')),
            ("upper-case hash", lambda l: ref_sub(l, r'"hash": "([0-9a-f]{64})"', lambda m: '"hash": "%s"' % m.group(1).upper())),
            ("short hash", lambda l: ref_sub(l, r'"hash": "[0-9a-f]{2}', '"hash": "')),
            ("bad uuid", lambda l: ref_sub(l, r'"event_id": "[0-9a-f]{8}-', '"event_id": "')),
            ("other ledger", lambda l: ref_sub(l, r'"ledger_id": "[0-9a-f]', '"ledger_id": "f')),
            ("context value number", lambda l: ref_sub(l, r'"actor_type": "[^"]*"', '"actor_type": 1')),
            ("context field dropped", lambda l: ref_sub(l, r'"actor_type": "[^"]*", ', '')),
            ("action changed", lambda l: ref_sub(l, r'"action": "[^"]*"', '"action": "SELECT"')),
            ("number literal 1.80 -> 1.8", lambda l: replace_once(l, "1.80", "1.8")),
            ("number literal 0.0700 -> 7.00e-2", lambda l: replace_once(l, "0.0700", "7.00e-2")),
            ("escaped key", lambda l: replace_once(l, '"zz"', '"\\u007a\\u007a"')),
            ("duplicate key, last wins", lambda l: replace_once(l, '"tier": "gold"', '"tier": "silver", "tier": "gold"')),
            ("erasure index out of range", lambda l: replace_once(l, '"4": "', '"9": "')),
            ("erasure index with leading zero", lambda l: replace_once(l, '"3": "', '"03": "')),
            ("erasure commitment short", lambda l: ref_sub(l, r'("commitments": \{"3": ")[0-9a-f]{2}', r'\1')),
            ("erasure key dropped", lambda l: ref_sub(l, r'"0": "[0-9a-f]{32}", ', '')),
            ("erasure commitments not object", lambda l: ref_sub(l, r'"commitments": \{[^}]*\}', '"commitments": []')),
            ("erasure unknown section", lambda l: replace_once(l, '"erasure": {', '"erasure": {"note": 1, ')),
            ("salt added", lambda l: replace_once(l, '"salt": null', '"salt": "000102030405060708090a0b0c0d0e0f"')),
            ("erasure added", lambda l: replace_once(l, '"erasure": null', '"erasure": {}')),
            ("erasure removed", lambda l: ref_sub(l, r'"erasure": \{"value_keys": \{[^}]*\}, "commitments": \{[^}]*\}\}',
                                                  '"erasure": null')),
            ("erased value restored", lambda l: replace_once(l, '"email": "[ERASED]"', '"email": "ann@example.com"')),
            ("erased value as null", lambda l: replace_once(l, '"phone": "[ERASED]"', '"phone": null')),
            ("erasure record a string", lambda l: ref_sub(l, r'"erasure": \{"value_keys"', '"erasure": "x", "y": {"value_keys"')),
            ("erasure key for erased unit", lambda l: ref_sub(l, r'("value_keys": \{)', r'\1"4": "00000000000000000000000000000000", ')),
        ] + context_edits()
        for name, edit in edits:
            new = edit(line.decode("utf-8"))
            if new is not None and new.encode("utf-8") != line:
                v.append(("line %d: %s" % (i, name), lines[:i] + [new.encode("utf-8")] + lines[i + 1:], digest))
    if n > 1:
        v.append(("swap first two", [lines[1], lines[0]] + lines[2:], digest))
    d = digest.decode("utf-8")
    for name, new in [
        ("digest altered", ref_sub(d, r'"digest": "(.)', lambda m: '"digest": "%s' % ("1" if m.group(1) == "0" else "0"))),
        ("digest format", replace_once(d, "digest.v1", "digest.v2")),
        ("digest head seq 0", ref_sub(d, r'"seq": \d+', '"seq": 0')),
        ("digest heads reversed order", None),
        ("digest not json", d[:-3]),
        ("digest heads empty", ref_sub(d, r'"heads": \[.*?\]\}\], ', '"heads": [], ')),
    ]:
        if new is not None:
            v.append((name, lines, new.encode("utf-8")))
    return v


# A context's own salt and erasure record (format 2). Erasure record entries are keyed by
# attribute name ("actor_type": key), so these patterns do not touch the event's record.
HEX32 = r'"[0-9a-f]{32}"'
HEX64 = r'"[0-9a-f]{64}"'
PSEUDONYM = r'"\[ERASED:[0-9a-f]{16}\]"'


def context_edits():
    def flip(m):
        return m.group(1) + ("1" if m.group(2) == "0" else "0")

    return [
        # The salt of an intact context.
        ("context salt null", lambda l: ref_sub(l, r'"context_salt": ' + HEX32, '"context_salt": null')),
        ("context salt changed", lambda l: ref_sub(l, r'("context_salt": ")(.)', flip)),
        ("context salt upper-case", lambda l: ref_sub(l, r'"context_salt": ("[0-9a-f]{32}")',
                                                      lambda m: '"context_salt": ' + m.group(1).upper())),
        ("context salt short", lambda l: ref_sub(l, r'("context_salt": ")[0-9a-f]{2}', r'\1')),
        ("context salt bad hex", lambda l: ref_sub(l, r'("context_salt": ")[0-9a-f]', r'\1g')),
        ("context salt a number", lambda l: ref_sub(l, r'"context_salt": ' + HEX32, '"context_salt": 1')),
        ("context salt missing", lambda l: ref_sub(l, r'"context_salt": (null|' + HEX32 + '), ', '')),
        ("context erasure added", lambda l: replace_once(l, '"context_erasure": null', '"context_erasure": {}')),
        ("context erasure not object", lambda l: replace_once(l, '"context_erasure": null', '"context_erasure": []')),
        ("context erasure missing", lambda l: replace_once(l, ', "context_erasure": null', '')),
        # The erased context: its attributes, its record, the salt it must not have.
        ("context salt beside record", lambda l: replace_once(l, '"context_salt": null',
                                                              '"context_salt": "000102030405060708090a0b0c0d0e0f"')),
        ("context erasure removed", lambda l: ref_sub(l, r'"context_erasure": \{"value_keys": \{[^}]*\}, "commitments": \{[^}]*\}\}',
                                                      '"context_erasure": null')),
        # context_erasure is the line's last member (jsonb key order), so the record runs to the final "}".
        ("context erasure a string", lambda l: ref_sub(l, r'"context_erasure": \{.*\}\Z', '"context_erasure": "x"}')),
        ("context section not object", lambda l: ref_sub(l, r'("context_erasure": \{"value_keys": )\{[^}]*\}', r'\1[]')),
        ("context erased value changed", lambda l: ref_sub(l, r'"actor_id": ' + PSEUDONYM, '"actor_id": "mallory"')),
        ("context pseudonym upper-case", lambda l: ref_sub(l, r'("actor_id": "\[ERASED:)([0-9a-f]{16})',
                                                           lambda m: m.group(1) + m.group(2).upper())),
        ("context other pseudonym", lambda l: ref_sub(l, r'"actor_id": ' + PSEUDONYM, '"actor_id": "[ERASED:0000000000000000]"')),
        ("context pseudonym as marker", lambda l: ref_sub(l, r'"actor_id": ' + PSEUDONYM, '"actor_id": "[ERASED]"')),
        ("context erased address restored", lambda l: replace_once(l, '"client_addr": "[ERASED]"',
                                                                   '"client_addr": "198.51.100.23"')),
        ("context key dropped", lambda l: ref_sub(l, r'"actor_type": ' + HEX32 + ', ', '')),
        ("context key bad hex", lambda l: ref_sub(l, r'("actor_type": ")[0-9a-f]([0-9a-f]{31}")', r'\1g\2')),
        ("context key short", lambda l: ref_sub(l, r'("actor_type": ")[0-9a-f]{2}([0-9a-f]{30}")', r'\1\2')),
        ("context key changed", lambda l: ref_sub(l, r'("actor_type": ")([0-9a-f])(?=[0-9a-f]{31}")', flip)),
        ("context key a number", lambda l: ref_sub(l, r'"actor_type": ' + HEX32, '"actor_type": 7')),
        ("context commitment short", lambda l: ref_sub(l, r'("client_addr": ")[0-9a-f]{2}([0-9a-f]{62}")', r'\1\2')),
        ("context commitment changed", lambda l: ref_sub(l, r'("client_addr": ")([0-9a-f])(?=[0-9a-f]{63}")', flip)),
        ("context commitment dropped", lambda l: ref_sub(l, r', "client_addr": ' + HEX64, '')),
        ("context commitment for a kept attribute", lambda l: ref_sub(l, r'("commitments": \{)(?="actor_id")',
                                                                      r'\1"actor_type": "' + "ab" * 32 + '", ')),
        ("context record names no attribute", lambda l: ref_sub(l, r'("context_erasure": \{"value_keys": \{)',
                                                                r'\1"nobody": 1, ')),
        ("context record unknown section", lambda l: replace_once(l, '"context_erasure": {"value_keys"',
                                                                  '"context_erasure": {"note": [], "value_keys"')),
        # The attributes themselves.
        ("context attribute unnamed", lambda l: ref_sub(l, r'"actor_type": "([a-z]+)"', r'"": "\1"')),
        ("context attribute added", lambda l: replace_once(l, '"context": {', '"context": {"privileged": "false", ')),
        ("context attribute changed", lambda l: ref_sub(l, r'"actor_type": "([a-z]+)"', r'"actor_type": "\1x"')),
    ]


def ref_sub(text, pattern, repl):
    import re
    new, count = re.subn(pattern, repl, text, count=1)
    return new if count else None


def random_variants(lines, digest, rng, count):
    v = []
    alphabet = b'0123456789abcdef"{}[],: \\-.eE\x00\xc3\xa9\xff'
    for k in range(count):
        i = rng.randrange(len(lines))
        line = bytearray(lines[i])
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            pos = rng.randrange(len(line))
            op = rng.randrange(4)
            if op == 0:
                line[pos] = rng.choice(alphabet)
            elif op == 1 and len(line) > 1:
                del line[pos]
            elif op == 2:
                line.insert(pos, rng.choice(alphabet))
            else:
                # Flip the case or value of a hex digit, keeping the JSON valid more often.
                c = line[pos]
                if chr(c) in "0123456789abcdef":
                    line[pos] = ord(rng.choice([x for x in "0123456789abcdef" if ord(x) != c]))
        v.append(("random %d (line %d)" % (k, i), lines[:i] + [bytes(line)] + lines[i + 1:], digest))
    return v


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    tool, vectors = argv[0], argv[1]
    count, seed = 300, 20260101
    rest = argv[2:]
    while rest:
        if rest[0] == "--count":
            count = int(rest[1])
        elif rest[0] == "--seed":
            seed = int(rest[1])
        rest = rest[2:]
    with open(os.path.join(vectors, "hash_vectors.jsonl"), "rb") as f:
        lines = [l for l in f.read().split(b"\n") if l]
    with open(os.path.join(vectors, "hash_vectors_digest.json"), "rb") as f:
        digest = f.read()
    variants = structural_variants(lines, digest) + random_variants(lines, digest, random.Random(seed), count)
    disagreements = 0
    statuses = {0: 0, 1: 0, 2: 0}
    with tempfile.TemporaryDirectory() as tmp:
        for name, vlines, vdigest in variants:
            data = b"".join(l + b"\n" for l in vlines)
            prc, pout = run_python(data, vdigest)
            crc, cout = run_cpp(tool, data, vdigest, tmp)
            statuses[prc] = statuses.get(prc, 0) + 1
            if prc != crc or (prc != 2 and pout != cout):
                disagreements += 1
                sys.stdout.write("DISAGREE on %s: python %d, C++ %d\n--- python\n%s--- C++\n%s\n" % (
                    name, prc, crc, pout, cout))
    sys.stdout.write("%d variants: %d valid, %d invalid, %d parse errors; %d disagreements\n" % (
        len(variants), statuses.get(0, 0), statuses.get(1, 0), statuses.get(2, 0), disagreements))
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
