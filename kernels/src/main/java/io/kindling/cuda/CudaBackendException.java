package io.kindling.cuda;

/** A CUDA call failed; the message names the operation (asynchronous kernel faults surface at the next sync). */
public final class CudaBackendException extends RuntimeException {

    CudaBackendException(String operation, Throwable cause) {
        super(operation + " failed on the GPU: " + cause.getMessage(), cause);
    }
}
