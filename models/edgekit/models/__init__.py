"""The pilot network and its training (imports TensorFlow lazily)."""
