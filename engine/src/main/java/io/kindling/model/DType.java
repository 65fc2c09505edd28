package io.kindling.model;

/** Element types of checkpoint tensors, each named as a safetensors header names it ({@code "dtype": "BF16"}). */
public enum DType {
    BF16(2),
    F16(2),
    F32(4);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** The name in a safetensors header: the constant's own. */
    public String safetensorsName() {
        return name();
    }

    public int bytes() {
        return bytes;
    }
}
