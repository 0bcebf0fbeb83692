#!/usr/bin/python3
"""Validates a document on stdin with a real parser: 'prometheus' (prometheus_client's text
parser) or 'json' (Python's json). Prints a one-line summary; exits 1 on a parse error."""
import json
import sys


def check_prometheus(text):
    from prometheus_client.parser import text_string_to_metric_families
    families = list(text_string_to_metric_families(text))
    samples = sum(len(f.samples) for f in families)
    types = sorted({f.type for f in families})
    for f in families:
        if f.type == "histogram":
            buckets = [s for s in f.samples if s.name.endswith("_bucket")]
            if not buckets or buckets[-1].labels.get("le") != "+Inf":
                raise ValueError(f"histogram {f.name} lacks a +Inf bucket")
    print(f"families={len(families)} samples={samples} types={','.join(types)}")


def check_json(text):
    doc = json.loads(text)
    print(f"json keys={','.join(sorted(doc)) if isinstance(doc, dict) else type(doc).__name__}")


def main():
    text = sys.stdin.read()
    try:
        {"prometheus": check_prometheus, "json": check_json}[sys.argv[1]](text)
    except Exception as e:  # any parser complaint fails the check
        print(f"invalid: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
