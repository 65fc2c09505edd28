package io.kindling.cuda;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;

import io.kindling.backend.BackendUnavailableException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;

/** One {@code .cu} file's fatbin, built by nvcc into this jar, loaded into the current context. */
public final class KernelModule {

    private static final String DIR = "/io/kindling/cuda/kernels/";

    private final String name;
    private final CUmodule module;

    private KernelModule(String name, CUmodule module) {
        this.name = name;
        this.module = module;
    }

    /**
     * Loads {@code <name>.fatbin}: SASS for sm_80 and sm_90a, PTX for compute_80 that the driver compiles for
     * other cards.
     *
     * @throws BackendUnavailableException when this jar was built without nvcc or lacks that kernel file
     */
    public static KernelModule load(String name) {
        byte[] image = resource(name + ".fatbin");
        if (image == null) {
            byte[] why = resource("UNAVAILABLE");
            throw new BackendUnavailableException(why != null
                    ? "the CUDA backend is unavailable: " + new String(why, StandardCharsets.UTF_8).trim()
                    : "the CUDA backend is unavailable: kernel file " + DIR + name + ".fatbin is not on the classpath");
        }
        return fromImage(name, image);
    }

    /** Loads a fatbin image read elsewhere: a bench's build of another version of a kernel file, to compare. */
    static KernelModule fromImage(String name, byte[] image) {
        CUmodule module = new CUmodule();
        cuModuleLoadData(module, image);
        return new KernelModule(name, module);
    }

    public CUfunction function(String symbol) {
        CUfunction function = new CUfunction();
        try {
            cuModuleGetFunction(function, module, symbol);
        } catch (jcuda.CudaException e) {
            throw new IllegalStateException("kernel " + symbol + " not found in " + name + ".fatbin", e);
        }
        return function;
    }

    private static byte[] resource(String file) {
        try (InputStream in = KernelModule.class.getResourceAsStream(DIR + file)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + DIR + file, e);
        }
    }
}
