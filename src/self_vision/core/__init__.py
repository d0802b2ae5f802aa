"""Qt-free core of napari-self-vision: model, degradation, training, inference, metrics and I/O.

Nothing in this package imports napari or Qt.
"""
