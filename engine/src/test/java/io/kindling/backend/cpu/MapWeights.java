package io.kindling.backend.cpu;

import io.kindling.model.DType;
import io.kindling.model.ModelLoadException;
import io.kindling.model.TensorInfo;
import io.kindling.model.Weights;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** In-memory {@link Weights}: float32 tensors by name, each with its shape. */
final class MapWeights implements Weights {

    private final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, long[]> shapes = new LinkedHashMap<>();

    void put(String name, float[] data, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n != data.length) {
            throw new IllegalArgumentException(name + ": " + data.length + " values for shape of " + n);
        }
        values.put(name, data);
        shapes.put(name, shape);
    }

    float[] get(String name) {
        float[] v = values.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no tensor " + name);
        }
        return v;
    }

    void remove(String name) {
        values.remove(name);
        shapes.remove(name);
    }

    @Override
    public Set<String> names() {
        return values.keySet();
    }

    @Override
    public boolean contains(String name) {
        return values.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        if (!contains(name)) {
            throw new ModelLoadException(Path.of("memory"), "no tensor " + name);
        }
        return new TensorInfo(name, DType.F32, shapes.get(name).clone());
    }

    @Override
    public float[] readFloats(String name) {
        info(name);
        return values.get(name).clone();
    }

    @Override
    public void close() {
    }
}
