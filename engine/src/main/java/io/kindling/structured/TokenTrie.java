package io.kindling.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The vocabulary's byte strings as a trie laid out in pre-order: node {@code i}'s subtree is {@code [i, end[i])},
 * so a walk that finds a byte the automaton rejects skips the whole subtree with one jump. Tokens sharing a prefix
 * share its walk, which is what makes a state's mask cheap (XGrammar walks a trie the same way).
 */
final class TokenTrie {

    final byte[] label;
    final int[] depth;
    final int[] end;
    /** The first token ending at a node, or -1; further ones chain through {@link #nextToken}. */
    final int[] firstToken;
    final int[] nextToken;
    final int numNodes;

    /**
     * The length of the longest token, of ids below {@code vocabSize}, that {@code bytes} starts with at
     * {@code from}; 0 when none does.
     */
    int longestMatch(byte[] bytes, int from, int vocabSize) {
        int longest = 0;
        int node = 0;
        int end = numNodes; // the children of the current node lie in [node, end)
        for (int d = 1; from + d - 1 < bytes.length; d++) {
            byte b = bytes[from + d - 1];
            int child = -1;
            for (int j = node; j < end; j = this.end[j]) {
                if (label[j] == b) {
                    child = j;
                    break;
                }
            }
            if (child < 0) {
                break;
            }
            for (int id = firstToken[child]; id >= 0; id = nextToken[id]) {
                if (id < vocabSize) {
                    longest = d;
                }
            }
            node = child + 1;
            end = this.end[child];
        }
        return longest;
    }

    TokenTrie(byte[][] tokenBytes) {
        Integer[] order = new Integer[tokenBytes.length];
        int n = 0;
        for (int id = 0; id < tokenBytes.length; id++) {
            if (tokenBytes[id] != null && tokenBytes[id].length > 0) {
                order[n++] = id;
            }
        }
        Integer[] ids = Arrays.copyOf(order, n);
        Arrays.sort(ids, (a, b) -> Arrays.compareUnsigned(tokenBytes[a], tokenBytes[b]));
        List<Byte> labels = new ArrayList<>();
        List<Integer> depths = new ArrayList<>();
        List<Integer> firsts = new ArrayList<>();
        nextToken = new int[tokenBytes.length];
        Arrays.fill(nextToken, -1);
        int[] path = new int[64]; // node index per depth of the current token's path
        byte[] previous = new byte[0];
        for (int id : ids) {
            byte[] bytes = tokenBytes[id];
            int common = 0;
            while (common < previous.length && common < bytes.length && previous[common] == bytes[common]) {
                common++;
            }
            if (path.length < bytes.length) {
                path = Arrays.copyOf(path, bytes.length * 2);
            }
            for (int d = common; d < bytes.length; d++) {
                labels.add(bytes[d]);
                depths.add(d + 1);
                firsts.add(-1);
                path[d] = labels.size() - 1;
            }
            int node = path[bytes.length - 1];
            nextToken[id] = firsts.get(node);
            firsts.set(node, id);
            previous = bytes;
        }
        numNodes = labels.size();
        label = new byte[numNodes];
        depth = new int[numNodes];
        firstToken = new int[numNodes];
        for (int i = 0; i < numNodes; i++) {
            label[i] = labels.get(i);
            depth[i] = depths.get(i);
            firstToken[i] = firsts.get(i);
        }
        end = new int[numNodes];
        for (int i = numNodes - 1; i >= 0; i--) {
            int j = i + 1;
            while (j < numNodes && depth[j] > depth[i]) {
                j = end[j];
            }
            end[i] = j;
        }
    }
}
