"""The interactive wizard: questions as data (questions.py), asked by prompt.py."""
