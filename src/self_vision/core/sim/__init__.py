"""2D structured-illumination microscopy (SIM): raw-frame layout, optics, pattern estimation, generalised Wiener
reconstruction and rDL pattern-guided denoising of the raw frames. The entry point is :func:`run.sim_steps`."""
