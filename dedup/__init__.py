"""Case assignment: which case each new appeal belongs to, and the merge log that records why."""
