"""Generated files: rendering, atomic writing, the checklist and the plan of what changes."""
