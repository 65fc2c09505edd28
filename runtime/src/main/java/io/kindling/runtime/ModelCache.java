package io.kindling.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * A host-local copy of remote checkpoints, one directory per checkpoint version, shared by every engine and
 * JVM of the host. The directory is named after a hash of the URI and its files' lengths and modification
 * times, so a changed checkpoint gets a new copy. A copy is published complete or not at all: files are copied
 * into a temporary sibling, which is then renamed atomically. A lock file next to it makes concurrent JVMs
 * of the host wait for one copy rather than each making their own.
 */
public final class ModelCache {

    /** What {@link #fetch} found: the local directory, and whether this call copied it. */
    public record LocalModel(Path dir, boolean copied) {
    }

    // FileLock guards against other processes only; within one JVM a second lock() on the same file throws.
    private static final Map<Path, Object> JVM_LOCKS = new ConcurrentHashMap<>();

    private final Path root;
    private final Configuration hadoopConf;

    public ModelCache(Path root, Configuration hadoopConf) {
        this.root = root;
        this.hadoopConf = hadoopConf;
    }

    public LocalModel fetch(URI given) {
        String location = given.toString();
        URI uri = withoutTrailingSlash(given);
        try {
            org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(uri);
            FileSystem fs = dir.getFileSystem(hadoopConf);
            List<FileStatus> files = CheckpointFiles.select(fs, dir, location, "");
            Path target = root.resolve(cacheName(uri, files));
            if (Files.isDirectory(target)) {
                return new LocalModel(target, false);
            }
            Files.createDirectories(root);
            synchronized (JVM_LOCKS.computeIfAbsent(target, t -> new Object())) {
                try (FileChannel channel = FileChannel.open(root.resolve(target.getFileName() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock ignored = channel.lock()) {
                    if (Files.isDirectory(target)) {
                        return new LocalModel(target, false);
                    }
                    copy(fs, files, target);
                    return new LocalModel(target, true);
                }
            }
        } catch (IOException e) {
            throw new ModelLocationException(location, "cannot copy it into " + root + ": " + e, e);
        }
    }

    /** Copies into a temporary sibling of {@code target}, then renames it; the caller holds the lock. */
    private void copy(FileSystem fs, List<FileStatus> files, Path target) throws IOException {
        String prefix = target.getFileName() + ".tmp-";
        // Left by a copy that died: its owner held the lock we now hold.
        deleteSiblings(prefix);
        Path staging = Files.createTempDirectory(root, prefix);
        try {
            for (FileStatus file : files) {
                Path local = staging.resolve(file.getPath().getName());
                try (InputStream in = fs.open(file.getPath())) {
                    Files.copy(in, local);
                }
                long copied = Files.size(local);
                if (copied != file.getLen()) {
                    throw new IOException("copied " + copied + " of " + file.getLen() + " bytes of " + file.getPath());
                }
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            deleteTree(staging);
            throw e;
        }
    }

    private void deleteSiblings(String prefix) throws IOException {
        try (DirectoryStream<Path> stale = Files.newDirectoryStream(root, prefix + "*")) {
            for (Path dir : stale) {
                deleteTree(dir);
            }
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** {@code hdfs://nn/models/m/} and {@code hdfs://nn/models/m} name one directory, hence one copy. */
    private static URI withoutTrailingSlash(URI uri) {
        String path = uri.getPath();
        if (path == null || path.length() <= 1 || !path.endsWith("/")) {
            return uri;
        }
        try {
            return new URI(uri.getScheme(), uri.getAuthority(), path.substring(0, path.length() - 1), uri.getQuery(),
                    uri.getFragment());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("cannot drop the trailing slash of " + uri, e);
        }
    }

    /** {@code <directory name>-<hash>}: readable, and unique per URI and file version. */
    static String cacheName(URI uri, List<FileStatus> files) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        StringBuilder version = new StringBuilder(uri.toString());
        for (FileStatus file : files) {
            version.append('\n').append(file.getPath().getName()).append(' ').append(file.getLen()).append(' ')
                    .append(file.getModificationTime());
        }
        byte[] hash = sha.digest(version.toString().getBytes(StandardCharsets.UTF_8));
        String name = new org.apache.hadoop.fs.Path(uri).getName().replaceAll("[^A-Za-z0-9._-]", "_");
        return (name.isEmpty() ? "model" : name) + "-" + HexFormat.of().formatHex(hash, 0, 8);
    }
}
