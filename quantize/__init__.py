"""INT8 quantization (TF converter), float-vs-INT8 accuracy reports and Edge TPU compatibility.

Heavy libraries (TensorFlow, LiteRT, TFLM) are imported inside the functions that need them.
"""
