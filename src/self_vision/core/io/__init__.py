"""Files: TIFF (ImageJ/OME), lazily read TIFF/Zarr sources, units of voxel sizes, model files."""
