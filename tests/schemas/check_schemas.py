#!/usr/bin/env python3
"""Checks that the JSON Schemas in schemas/ agree with the C validator.

Every file of the good corpus and of examples/ must be accepted by the
schemas; every file of the bad corpus must be rejected, unless its .expect
file says "# schema: accept" (a mistake only the C validator can see: a
reference to another document, a duplicate name, a fallback cycle, a
duplicate YAML key or an alias, which PyYAML silently accepts).  The C side
of the same corpus is tests/unit/config/test_corpus.c.

Usage: check_schemas.py [REPO_ROOT]; exits 1 on any disagreement.
Needs python3-yaml and python3-jsonschema (Debian).
"""
import glob
import json
import os
import sys

import jsonschema
import yaml

KINDS = {"Issuer": "issuer.json", "Certificate": "certificate.json",
         "Solver": "solver.json"}


def load_schemas(root):
    store = {}
    for path in glob.glob(os.path.join(root, "schemas", "*.json")):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        store[schema["$id"]] = schema
    by_kind = {}
    for kind, name in KINDS.items():
        schema = store["https://certops.dev/schemas/" + name]
        jsonschema.Draft202012Validator.check_schema(schema)
        resolver = jsonschema.RefResolver(schema["$id"], schema, store=store)
        by_kind[kind] = jsonschema.Draft202012Validator(
            schema, resolver=resolver,
            format_checker=jsonschema.FormatChecker())
    return by_kind


def policy_validator(root):
    store = {}
    for path in glob.glob(os.path.join(root, "schemas", "*.json")):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        store[schema["$id"]] = schema
    schema = store["https://certops.dev/schemas/policy.json"]
    resolver = jsonschema.RefResolver(schema["$id"], schema, store=store)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def problems(validators, path):
    """The schema's complaints about one file, [] when it accepts it."""
    try:
        with open(path, encoding="utf-8") as f:
            docs = list(yaml.safe_load_all(f))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        return ["yaml: %s" % str(e).splitlines()[0]]
    out = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            out.append("document %d: not a mapping" % i)
            continue
        kind = doc.get("kind")
        if not isinstance(kind, str) or kind not in validators:
            out.append("document %d: unknown kind %r" % (i, kind))
            continue
        for err in validators[kind].iter_errors(doc):
            where = "/".join(str(p) for p in err.absolute_path)
            out.append("document %d: %s: %s" % (i, where, err.message))
    return out


def expects_accept(expect_path):
    try:
        with open(expect_path, encoding="utf-8") as f:
            return any(line.strip() == "# schema: accept" for line in f)
    except FileNotFoundError:
        return False


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    validators = load_schemas(root)
    corpus = os.path.join(root, "tests", "unit", "config", "corpus")
    good = sorted(glob.glob(os.path.join(corpus, "good", "*.yaml")))
    policies = sorted(glob.glob(os.path.join(root, "examples", "policies",
                                             "*.yaml")))
    good += sorted(p for p in glob.glob(os.path.join(root, "examples", "**",
                                                     "*.yaml"), recursive=True)
                   if p not in policies)
    bad = sorted(glob.glob(os.path.join(corpus, "bad", "*.yaml")))
    failures = 0
    for path in good:
        p = problems(validators, path)
        if p:
            failures += 1
            print("FAIL %s: the C validator accepts it, the schema rejects it:"
                  % os.path.relpath(path, root))
            for line in p:
                print("    " + line)
    for path in bad:
        accept = expects_accept(path[:-len(".yaml")] + ".expect")
        p = problems(validators, path)
        if accept and p:
            failures += 1
            print("FAIL %s: marked '# schema: accept' but the schema rejects it:"
                  % os.path.relpath(path, root))
            for line in p:
                print("    " + line)
        elif not accept and not p:
            failures += 1
            print("FAIL %s: the C validator rejects it, the schema accepts it"
                  % os.path.relpath(path, root))
    pv = policy_validator(root)
    for path in policies:
        with open(path, encoding="utf-8") as f:
            errs = list(pv.iter_errors(yaml.safe_load(f) or {}))
        if errs:
            failures += 1
            print("FAIL %s: the policy schema rejects it: %s"
                  % (os.path.relpath(path, root), errs[0].message))
    print("schemas: %d good, %d bad, %d policy files, %d disagreement(s)"
          % (len(good), len(bad), len(policies), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
