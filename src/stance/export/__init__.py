"""ONNX export of a saved model (scripts/export.py): the exporter, the parity check against
PyTorch, the int8 variant.
"""
