package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUstream;

/** Launches a kernel with its arguments boxed as JCuda wants them. */
public final class Launch {

    private static final int DEFAULT_SHARED_LIMIT = 48 * 1024;
    /** Kernels this thread launched: an engine's own thread reads it around a step. */
    private static final ThreadLocal<int[]> LAUNCHES = ThreadLocal.withInitial(() -> new int[1]);

    private Launch() {
    }

    /** @param args {@code CUdeviceptr}, {@code Integer}, {@code Long}, {@code Float} or {@code Double}, in order */
    public static void kernel(CUfunction f, CUstream stream, int gridX, int gridY, int gridZ, int blockX,
                              int sharedBytes, Object... args) {
        prepared(f, stream, gridX, gridY, gridZ, blockX, sharedBytes, arguments(args));
    }

    /**
     * {@code args} boxed once, for a kernel launched again and again with them ({@link #prepared}): such a launch
     * allocates nothing on the host. A {@code long[]} of one element is passed by its value at each launch, so a
     * count may change between launches.
     *
     * @param args as {@link #kernel} takes them, and {@code long[1]}
     */
    static Pointer arguments(Object... args) {
        NativePointerObject[] params = new NativePointerObject[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = box(args[i], i);
        }
        return Pointer.to(params);
    }

    /** Launches {@code f} with arguments boxed by {@link #arguments}. */
    static void prepared(CUfunction f, CUstream stream, int gridX, int gridY, int gridZ, int blockX, int sharedBytes,
                         Pointer arguments) {
        if (gridX <= 0 || gridY <= 0 || gridZ <= 0 || blockX <= 0) {
            throw new IllegalArgumentException("empty launch: grid " + gridX + "x" + gridY + "x" + gridZ
                    + ", block " + blockX);
        }
        if (sharedBytes > DEFAULT_SHARED_LIMIT) {
            cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes);
        }
        cuLaunchKernel(f, gridX, gridY, gridZ, blockX, 1, 1, sharedBytes, stream, arguments, null);
        LAUNCHES.get()[0]++;
    }

    /** Kernels launched by this thread so far (wrapping at 2^31). */
    static int launchesOnThisThread() {
        return LAUNCHES.get()[0];
    }

    private static Pointer box(Object arg, int index) {
        if (arg instanceof NativePointerObject p) {
            return Pointer.to(p);
        } else if (arg instanceof Integer v) {
            return Pointer.to(new int[] {v});
        } else if (arg instanceof Long v) {
            return Pointer.to(new long[] {v});
        } else if (arg instanceof Float v) {
            return Pointer.to(new float[] {v});
        } else if (arg instanceof Double v) {
            return Pointer.to(new double[] {v});
        } else if (arg instanceof long[] v && v.length == 1) { // wrapped, not copied: read at each launch
            return Pointer.to(v);
        }
        throw new IllegalArgumentException("kernel argument " + index + " has unsupported type "
                + (arg == null ? "null (pass a CUdeviceptr of address 0 for an absent pointer)" : arg.getClass()));
    }
}
