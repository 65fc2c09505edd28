package io.kindling.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Test fixtures under {@code src/test/resources}: tokenizers ({@code tokenizers/<name>/}, tokenizer.json stored
 * gzip-compressed) and tiny checkpoints ({@code fixtures/<name>/}, whose {@code tokenizer.txt} names their
 * tokenizer). Each is materialised once per JVM as a plain Hugging Face directory in a temporary folder.
 */
public final class Fixtures {

    private static final Path ROOT = createRoot();

    private Fixtures() {
    }

    /** A directory holding {@code tokenizer.json} and {@code tokenizer_config.json} of the named tokenizer. */
    public static synchronized Path tokenizer(String name) {
        Path dir = ROOT.resolve("tokenizer-" + name);
        if (!Files.isDirectory(dir)) {
            copyTokenizerInto(name, dir);
        }
        return dir;
    }

    /** A complete checkpoint directory: config, weights, generation config and its tokenizer. */
    public static synchronized Path checkpoint(String name) {
        Path dir = ROOT.resolve("checkpoint-" + name);
        if (!Files.isDirectory(dir)) {
            Path source = resource("fixtures/" + name);
            try {
                Files.createDirectories(dir);
                try (Stream<Path> files = Files.list(source)) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        Files.copy(f, dir.resolve(f.getFileName().toString()), StandardCopyOption.REPLACE_EXISTING);
                    }
                }
                String tokenizer = Files.readString(source.resolve("tokenizer.txt")).trim();
                copyTokenizerInto(tokenizer, dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    /**
     * A file or directory of the test resources, e.g. {@code tokenizers/qwen3/reference.json}; inside the engine's
     * test jar when another module's tests use it (a path of a zip file system: read it with {@link Files}).
     */
    public static Path resource(String path) {
        URL url = Fixtures.class.getClassLoader().getResource(path);
        if (url == null) {
            throw new IllegalArgumentException("no test resource " + path);
        }
        try {
            URI uri = url.toURI();
            if (uri.getScheme().equals("jar")) {
                try {
                    FileSystems.newFileSystem(uri, Map.of());
                } catch (FileSystemAlreadyExistsException e) {
                    // opened by an earlier call
                }
            }
            return Path.of(uri);
        } catch (URISyntaxException | IOException e) {
            throw new IllegalStateException("cannot open test resource " + url, e);
        }
    }

    private static void copyTokenizerInto(String name, Path dir) {
        Path source = resource("tokenizers/" + name);
        try {
            Files.createDirectories(dir);
            Files.copy(source.resolve("tokenizer_config.json"), dir.resolve("tokenizer_config.json"),
                    StandardCopyOption.REPLACE_EXISTING);
            try (InputStream in = new GZIPInputStream(Files.newInputStream(source.resolve("tokenizer.json.gz")))) {
                Files.copy(in, dir.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path createRoot() {
        try {
            Path root = Files.createTempDirectory("kindling-fixtures");
            root.toFile().deleteOnExit();
            return root;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
