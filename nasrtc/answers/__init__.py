"""The answers: every key's check, default and doc (schema), the rules across keys
(rules), and reading, resolving and writing nasrtc.yaml (file)."""

from nasrtc.answers.file import (
    ANSWERS_FILE,
    Answers,
    chosen_keys,
    dump_answers,
    flatten,
    load_answers,
    load_stack_answers,
    nest,
    read_yaml_mapping,
    resolve,
    resolve_partial,
)

__all__ = ["ANSWERS_FILE", "Answers", "chosen_keys", "dump_answers", "flatten", "load_answers",
           "load_stack_answers", "nest", "read_yaml_mapping", "resolve",
           "resolve_partial"]
