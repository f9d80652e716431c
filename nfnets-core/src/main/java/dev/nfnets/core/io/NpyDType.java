package dev.nfnets.core.io;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * Element types of {@link NpyArray}: the numeric numpy dtypes plus bfloat16 (which numpy lacks but safetensors has).
 *
 * <p>Each constant knows its item size, its numpy type string ({@code "f4"}; the little-endian descr written to
 * .npy files is {@link #numpyDescr()}, e.g. {@code "<f4"}), its safetensors name ({@code "F32"}) and the ND4J
 * {@link DataType} that {@link NpyArray#toINDArray()} produces.
 *
 * <pre>{@code
 * NpyDType t = NpyDType.fromNumpyTypeCode("f4");   // F4
 * t.safetensorsName();                              // "F32"
 * t.ndArrayType();                                  // DataType.FLOAT
 * }</pre>
 */
public enum NpyDType {
    /** IEEE half precision (numpy {@code float16}); converted to FLOAT by {@link NpyArray#toINDArray()}. */
    F2("f2", 2, "F16", DataType.FLOAT, Kind.FLOAT),
    /** IEEE single precision (numpy {@code float32}). */
    F4("f4", 4, "F32", DataType.FLOAT, Kind.FLOAT),
    /** IEEE double precision (numpy {@code float64}). */
    F8("f8", 8, "F64", DataType.DOUBLE, Kind.FLOAT),
    /** bfloat16 (safetensors {@code BF16}); no .npy representation; converted to FLOAT by {@link NpyArray#toINDArray()}. */
    BF16(null, 2, "BF16", DataType.FLOAT, Kind.FLOAT),
    /** Signed 8-bit integer (numpy {@code int8}). */
    I1("i1", 1, "I8", DataType.INT8, Kind.SIGNED),
    /** Signed 16-bit integer (numpy {@code int16}). */
    I2("i2", 2, "I16", DataType.INT16, Kind.SIGNED),
    /** Signed 32-bit integer (numpy {@code int32}). */
    I4("i4", 4, "I32", DataType.INT32, Kind.SIGNED),
    /** Signed 64-bit integer (numpy {@code int64}). */
    I8("i8", 8, "I64", DataType.INT64, Kind.SIGNED),
    /** Unsigned 8-bit integer (numpy {@code uint8}). */
    U1("u1", 1, "U8", DataType.UINT8, Kind.UNSIGNED),
    /** Unsigned 16-bit integer (numpy {@code uint16}). */
    U2("u2", 2, "U16", DataType.UINT16, Kind.UNSIGNED),
    /** Unsigned 32-bit integer (numpy {@code uint32}). */
    U4("u4", 4, "U32", DataType.UINT32, Kind.UNSIGNED),
    /** Unsigned 64-bit integer (numpy {@code uint64}); values above 2^63-1 do not survive ND4J conversions. */
    U8("u8", 8, "U64", DataType.UINT64, Kind.UNSIGNED),
    /** Boolean, one byte per element, 0 or 1 (numpy {@code bool}). */
    B1("b1", 1, "BOOL", DataType.BOOL, Kind.BOOL);

    private enum Kind { FLOAT, SIGNED, UNSIGNED, BOOL }

    private final String typeCode;
    private final int itemSize;
    private final String safetensorsName;
    private final DataType ndArrayType;
    private final Kind kind;

    NpyDType(String typeCode, int itemSize, String safetensorsName, DataType ndArrayType, Kind kind) {
        this.typeCode = typeCode;
        this.itemSize = itemSize;
        this.safetensorsName = safetensorsName;
        this.ndArrayType = ndArrayType;
        this.kind = kind;
    }

    /** @return bytes per element */
    public int itemSize() {
        return itemSize;
    }

    /** @return the numpy type code without byte order ({@code "f4"}), or null for {@link #BF16} */
    public String numpyTypeCode() {
        return typeCode;
    }

    /**
     * @return the little-endian numpy descr written to .npy headers ({@code "<f4"}, {@code "|u1"}, {@code "|b1"})
     * @throws IllegalArgumentException for {@link #BF16}, which numpy cannot represent
     */
    public String numpyDescr() {
        if (typeCode == null) {
            throw new IllegalArgumentException("dtype " + name() + " has no numpy (.npy) representation;"
                    + " convert it first, e.g. with NpyArray.toFloat32()");
        }
        return (itemSize == 1 ? "|" : "<") + typeCode;
    }

    /** @return the safetensors dtype name ({@code "F32"}, {@code "BOOL"}, ...) */
    public String safetensorsName() {
        return safetensorsName;
    }

    /** @return the ND4J data type that {@link NpyArray#toINDArray()} produces for this dtype */
    public DataType ndArrayType() {
        return ndArrayType;
    }

    /** @return true for F2, F4, F8 and BF16 */
    public boolean isFloatingPoint() {
        return kind == Kind.FLOAT;
    }

    /** @return true for the signed and unsigned integer types (not bool) */
    public boolean isInteger() {
        return kind == Kind.SIGNED || kind == Kind.UNSIGNED;
    }

    /** @return true for the unsigned integer types */
    public boolean isUnsigned() {
        return kind == Kind.UNSIGNED;
    }

    /** @return true for {@link #B1} */
    public boolean isBool() {
        return kind == Kind.BOOL;
    }

    /**
     * Looks up a numpy type code without byte-order character ({@code "f4"}, {@code "u1"}, {@code "b1"}); the aliases
     * {@code "?"} (bool), {@code "b"} (int8) and {@code "B"} (uint8) are accepted too.
     *
     * @param code the type code
     * @return the dtype, or null when the code is not one of the supported numeric types
     */
    public static NpyDType fromNumpyTypeCode(String code) {
        switch (code) {
            case "?":
                return B1;
            case "b":
                return I1;
            case "B":
                return U1;
            default:
                for (NpyDType t : values()) {
                    if (code.equals(t.typeCode)) {
                        return t;
                    }
                }
                return null;
        }
    }

    /**
     * Looks up a safetensors dtype name ({@code "F32"}, {@code "BF16"}, ...; case-sensitive, as the format is).
     *
     * @param name the safetensors dtype name
     * @return the dtype, or null when unsupported (e.g. {@code "F8_E4M3"})
     */
    public static NpyDType fromSafetensorsName(String name) {
        for (NpyDType t : values()) {
            if (t.safetensorsName.equals(name)) {
                return t;
            }
        }
        return null;
    }

    /**
     * The dtype {@link NpyArray#fromINDArray} uses for an ND4J data type.
     *
     * @param type the ND4J type
     * @return the matching dtype ({@code HALF} gives {@link #F2}, {@code BFLOAT16} gives {@link #BF16})
     * @throws IllegalArgumentException for UTF8, COMPRESSED and other non-numeric types
     */
    public static NpyDType fromDataType(DataType type) {
        switch (type) {
            case FLOAT:
                return F4;
            case DOUBLE:
                return F8;
            case HALF:
                return F2;
            case BFLOAT16:
                return BF16;
            case BYTE:
                return I1;
            case SHORT:
                return I2;
            case INT:
                return I4;
            case LONG:
                return I8;
            case UBYTE:
                return U1;
            case UINT16:
                return U2;
            case UINT32:
                return U4;
            case UINT64:
                return U8;
            case BOOL:
                return B1;
            default:
                throw new IllegalArgumentException("ND4J data type " + type + " has no tensor-file equivalent");
        }
    }
}
