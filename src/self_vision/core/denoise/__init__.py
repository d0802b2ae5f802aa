"""Self-supervised denoising (rDL SiS/TiS with the gap-amending regulariser, optional FNSM)."""
