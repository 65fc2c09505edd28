#!/usr/bin/env python3
"""Turn the extracted Debian dictionary packages into training text for the bundled model.

Usage: prepare_data.py ROOT OUT_DIR
  ROOT     the folder the .deb packages were unpacked into with `dpkg -x` (holds usr/share/dictd/...)
  OUT_DIR  receives train.txt, valid.txt and stats.json

Every output line is one dictionary sense, `headword: definition`, for example
  apple: The fleshy pome or fruit of a rosaceous tree (Pyrus malus) cultivated in numberless varieties ...
  to abandon: To give up absolutely; to forsake entirely; to renounce utterly; ...
Verbs are written `to <verb>:` so that a prompt like `to run:` asks for a verb sense.

Sources (see README.md for their licenses): GCIDE (dict-gcide) and Ambrose Bierce's Devil's Dictionary
(dict-devil). Only definitions are kept: pronunciations, etymologies, quotations, usage notes, synonym lists
and source tags are dropped. Held-out lines are chosen by headword (a stable hash), so the validation set
measures definitions of words the model never saw. Plain python3, no third-party packages; deterministic.
"""
import gzip
import hashlib
import json
import os
import random
import re
import sys
import unicodedata

DICTD = os.path.join("usr", "share", "dictd")
VALID_PER_MILLE = 10  # 1% of headwords are held out
MIN_WORDS, MAX_WORDS = 3, 60
SEED = 1234

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# GCIDE writes accents as bracketed codes: ['e] is é, [^o] is ô, [ae] is æ. Pronunciation-only marks (macron,
# breve, dots) turn up in definitions only inside foreign words; a sense with a code not listed here is dropped.
COMBINING = {"'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", ",": "\u0327"}
LIGATURES = {"ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aum": "ä", "deg": "°"}
LABELS = {"slang", "archaic", "informal", "obs.", "colloq.", "fig.", "rare", "poetic", "dial."}
SOURCE_TAG = re.compile(r"Webster|PJC|WordNet|Century|RDH|RHUD|\bAS\b|\bMW")
VERB_POS = re.compile(r"(^|[\s,;])v\. ?[ti]\.|(^|[\s,;])v\.(\s|$)")

ITEM_NUMBERED = re.compile(r"^( {3,8})(\d+)\.\s+(.*)$")
ITEM_LETTERED = re.compile(r"^( {3,10})\(([a-z])\)\s+(.*)$")
ITEM_SKIPPED = re.compile(r"^ {3,8}(Note|Syn|Usage|Note\s*\d*)\s*:")
ITEM_PHRASE = re.compile(r"^( {3})(\{.*)$")
ITEM_PLAIN = re.compile(r"^( {3})(\S.*)$")


def b64(text):
    value = 0
    for ch in text:
        value = value * 64 + B64.index(ch)
    return value


def read_dictd(root, name):
    """Yields the distinct entries (as text) of a dictd database, in file order."""
    base = os.path.join(root, DICTD, name)
    with gzip.open(base + ".dict.dz") as f:
        data = f.read()
    spans = set()
    with open(base + ".index", encoding="utf-8") as f:
        for line in f:
            word, offset, length = line.rstrip("\n").split("\t")
            if not word.startswith("00"):  # 00-database-* entries describe the database itself
                spans.add((b64(offset), b64(length)))
    for offset, length in sorted(spans):
        yield data[offset:offset + length].decode("utf-8", "replace")


def resolve_codes(text):
    """Replaces GCIDE accent codes with Unicode; returns None when an unknown code remains."""
    def code(m):
        body = m.group(1)
        if body in LIGATURES:
            return LIGATURES[body]
        if len(body) == 2 and body[0] in COMBINING and body[1].isalpha():
            return unicodedata.normalize("NFC", body[1] + COMBINING[body[0]])
        return m.group(0)
    return re.sub(r"\[([^\]\s]{1,4})\]", code, text)


def clean_definition(text):
    """One sense's raw text -> a tidy sentence, or None when it is not worth training on."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s--(?=\S).*$", "", text)  # trailing author citation: "... apples. --Holland."
    text = resolve_codes(text)
    text = text.replace("{", "").replace("}", "")
    kept = []
    for m in re.finditer(r"\[([^\[\]]*)\]", text):
        body = m.group(1)
        if SOURCE_TAG.search(body):
            kept.append((m.span(), ""))
        elif re.fullmatch(r"[A-Z][A-Za-z. ]{0,20}", body) or body.lower() in LABELS:
            kept.append((m.span(), m.group(0)))
        else:
            return None  # unresolved code or a nested etymology: not clean English
    for (start, end), repl in reversed(kept):
        text = text[:start] + repl + text[end:]
    text = re.sub(r"\s+", " ", text).strip().rstrip(":;, ")
    # Trailing quoted examples (their authors are gone) and cross-references add nothing to a definition.
    previous = None
    while previous != text:
        previous = text
        text = re.sub(r'(?<=[.;!?])\s*"[^"]*"[.;]*$', "", text)
        text = re.sub(r"(?<=[.;])\s*See (also |under )?[^;]*$", "", text).rstrip(";, ")
    if "\ufffd" in text or "?" * 3 in text or "\\" in text or not text:
        return None
    text = re.sub(r"^\d+\s*:?\s+", "", text)  # WordNet senses are numbered "1 puree of ..."
    if text.lower().startswith(("see ", "pl. ", "also ")) or (text.startswith("Same as") and len(text.split()) < 8):
        return None
    words = len(text.split())
    if words < MIN_WORDS or words > MAX_WORDS:
        return None
    if not text.endswith((".", "!", "?", ")", "]")):
        text += "."
    return text[0].upper() + text[1:]


def split_header(lines):
    """Returns (headword, part of speech, index of the first body line) for a GCIDE entry."""
    first = lines[0]
    headword = first.split("\\", 1)[0].strip().rstrip(",")
    # The header runs until the etymology bracket that may follow the part of speech is closed.
    depth, end = 0, 0
    for i, line in enumerate(lines):
        depth += line.count("[") - line.count("]")
        end = i + 1
        if depth <= 0:
            break
    header = " ".join(lines[:end])
    after_pron = re.sub(r"^[^\\]*\\[^\\]*\\", "", header)  # drop "Headword \pro*nun"ci*a`tion\"
    after_pron = re.sub(r"\([^)]*\)", "", after_pron)
    pos = after_pron.split("[", 1)[0]
    return headword, pos, end


def display_headword(headword, pos):
    headword = re.sub(r"\s+", " ", headword).strip()
    headword = resolve_codes(headword)
    # GCIDE capitalizes every headword; keep acronyms (DBMS) and lower the rest.
    if len(headword) > 1 and not headword[1].isupper():
        headword = headword[0].lower() + headword[1:]
    if VERB_POS.search(pos):
        headword = "to " + headword
    return headword


def gcide_senses(entry):
    lines = entry.rstrip("\n").split("\n")
    if not lines or "\\" not in lines[0]:
        return
    headword, pos, start = split_header(lines)
    if not headword or not re.fullmatch(r"[A-Za-z][A-Za-z '\-.]*", headword):
        return
    word = display_headword(headword, pos)

    items = []  # [kind, continuation indent, text parts, owner headword]; kind: sense, sub, phrase, skip
    current, owner = None, word
    for line in lines[start:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("["):
            current = None  # a blank line or a source tag ends the item
            continue
        indent = len(line) - len(line.lstrip(" "))
        started = None
        m = ITEM_NUMBERED.match(line)
        if m:
            owner = word
            started = ["sense", len(m.group(1)) + len(m.group(2)) + 2, [m.group(3)], owner]
        m = None if started else ITEM_LETTERED.match(line)
        if m:
            started = ["sub", len(m.group(1)) + 4, [m.group(3)], owner]
        if started is None and ITEM_SKIPPED.match(line):
            started = ["skip", 99, [], owner]
        if started is None and current is None:
            m = ITEM_PHRASE.match(line)
            if m:
                # "{Sand bag}." may have no definition of its own, only lettered sub-senses that follow.
                name = re.match(r"^\{([^{}]+)\}", m.group(2))
                owner = phrase_headword(name.group(1)) if name else None
                started = ["phrase", 6, [m.group(2)], owner]
            elif ITEM_PLAIN.match(line):
                owner = word
                started = ["sense", 3, [stripped], owner]
        if started is not None:
            current = started
            items.append(current)
        elif current is not None and indent <= current[1]:
            current[2].append(stripped)
        else:
            current = None  # deeper indentation: a quotation or its author

    has_sub = {id(items[i - 1]) for i in range(1, len(items)) if items[i][0] == "sub"}
    for item in items:
        kind, _, parts, item_owner = item
        if kind == "skip" or item_owner is None:
            continue
        text = " ".join(parts)
        if id(item) in has_sub and text.rstrip().endswith((":", ".")) and len(text.split()) < 12:
            continue  # "Of voluntary or personal action:" or "{Sand bag}." introduces lettered sub-senses
        if kind == "phrase":
            m = re.match(r"^\{([^{}]+)\}(?:,? or \{[^{}]+\})*(?:\s*\([^)]*\))?,?\s+(.*)$", text)
            if not m:
                continue
            text = m.group(2)
        definition = clean_definition(text)
        if definition:
            yield item_owner, definition


def phrase_headword(name):
    """`{Apple of discord}` -> "apple of discord"; None for names that are not plain words."""
    name = re.sub(r"\s+", " ", resolve_codes(name)).strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z '\-.]*", name):
        return None
    return name[0].lower() + name[1:] if len(name) > 1 and not name[1].isupper() else name


def devil_senses(entry):
    m = re.match(r"^([A-Z][A-Z' \-]*),\s*([a-z. ]+?)\s{2,}(.*)$", entry.strip(), re.S)
    if not m:
        return
    headword, pos, body = m.groups()
    first_paragraph = body.split("\n\n", 1)[0]
    text = re.sub(r"\s+", " ", first_paragraph).strip()
    if len(text.split()) < MIN_WORDS or len(text.split()) > MAX_WORDS or not re.search(r"[.!?]$", text):
        return
    word = headword.strip().lower()
    if VERB_POS.search(" " + pos):
        word = "to " + word
    yield word, text[0].upper() + text[1:]


def held_out(headword):
    bare = headword[3:] if headword.startswith("to ") else headword
    digest = hashlib.md5(bare.lower().encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 1000 < VALID_PER_MILLE


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    seen, train, valid, counts = set(), [], [], {"gcide": 0, "devil": 0}
    for source, senses in (("gcide", gcide_senses), ("devil", devil_senses)):
        for entry in read_dictd(root, source):
            for headword, definition in senses(entry):
                line = f"{headword}: {definition}"
                if line in seen:
                    continue
                seen.add(line)
                counts[source] += 1
                (valid if held_out(headword) else train).append(line)
    rng = random.Random(SEED)
    rng.shuffle(train)
    rng.shuffle(valid)
    for name, rows in (("train.txt", train), ("valid.txt", valid)):
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write("\n".join(rows) + "\n")
    stats = {"train_lines": len(train), "valid_lines": len(valid), "by_source": counts,
             "train_bytes": sum(len(r.encode()) + 1 for r in train),
             "valid_bytes": sum(len(r.encode()) + 1 for r in valid)}
    with open(os.path.join(out_dir, "stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
