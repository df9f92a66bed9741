"""Fewer labels: semi-supervised training (``--unlabeled DIR --semi pseudo-label|fixmatch``) and domain
adaptation (``--target-unlabeled DIR --adapt adabn|dann|coral``) through the ordinary run pipeline."""
