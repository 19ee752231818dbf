"""INT8 quantization (TF converter), float-vs-INT8 accuracy reports and Edge TPU compatibility.

Public API (heavy libraries — TensorFlow, LiteRT, TFLM — are imported inside the functions):
- `edgekit.quantize.pipeline.quantize(model, calib_paths, out, samples=200, seed=0, ...) -> report dict`
- `edgekit.quantize.pipeline.inspect(int8_tflite, calib_paths=None) -> report dict` (no conversion)
- `edgekit.quantize.edgetpu.compatibility(tflite_path) -> dict`, `edgetpu.for_board(board, tflite_path)`
- `edgekit.quantize.layers.per_layer(int8_buf, inputs, float_buf=None) -> dict`
CLI: `edgekit quantize MODEL --calib DATA... --out OUT.tflite [--report R.json] [--samples N]`.
"""
