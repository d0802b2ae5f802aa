"""The thin napari layer: widgets, reader/writer and sample data. No science lives here."""
