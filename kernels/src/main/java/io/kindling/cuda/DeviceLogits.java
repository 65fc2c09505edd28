package io.kindling.cuda;

import io.kindling.backend.Logits;
import jcuda.driver.CUdeviceptr;

/**
 * Logits the CUDA backend leaves on the device for {@link GpuSampler}: fp32 {@code [numRows][vocabSize]} row-major
 * at {@link #pointer()}, written on the engine's stream and valid until the next forward pass.
 */
interface DeviceLogits extends Logits {

    CUdeviceptr pointer();
}
