"""Zero-shot resolution enhancement (Self-Vision): options, planning, training, the model, the self-check."""
