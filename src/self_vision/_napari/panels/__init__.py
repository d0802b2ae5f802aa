"""The dock's panels, one file each: input (what to run on), advanced (how), run (start, progress, loss),
models and views (save, load, compare). Each binds its controls to the one ``DockSettings``."""
