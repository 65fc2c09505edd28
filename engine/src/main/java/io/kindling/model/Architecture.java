package io.kindling.model;

import java.util.Arrays;
import java.util.Optional;

/** The model families the engine implements, keyed by the Hugging Face {@code architectures} name. */
public enum Architecture {
    LLAMA("LlamaForCausalLM"),
    MISTRAL("MistralForCausalLM"),
    QWEN2("Qwen2ForCausalLM"),
    QWEN3("Qwen3ForCausalLM");

    private final String hfName;

    Architecture(String hfName) {
        this.hfName = hfName;
    }

    public String hfName() {
        return hfName;
    }

    public static Optional<Architecture> fromHfName(String name) {
        return Arrays.stream(values()).filter(a -> a.hfName.equals(name)).findFirst();
    }
}
