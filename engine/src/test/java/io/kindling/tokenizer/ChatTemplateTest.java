package io.kindling.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Year;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Jinja2 behaviour the bridged Jinjava must reproduce; expected strings are Jinja2 3.1's output. */
class ChatTemplateTest {

    private static String render(String template, Map<String, Object> variables) {
        return new ChatTemplate(template).render(variables);
    }

    @Test
    void slicesWithStepsAndNegativeBounds() {
        String template = "{% for m in items[::-1] %}{{ m }}{% endfor %}|{{ 'abcdef'[1:5:2] }}"
                + "|{{ items[-2:]|join(',') }}|{{ items[:-1]|join(',') }}|{{ 'h\u00e9llo\uD83D\uDE00'[::-1] }}"
                + "|{{ items[5:] | length }}";
        assertEquals("dcba|bd|c,d|a,b,c|\uD83D\uDE00oll\u00e9h|0",
                render(template, Map.of("items", List.of("a", "b", "c", "d"))));
    }

    @Test
    void pythonStringMethods() {
        String template = "{{ '  a b \\n'.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ 'xxa'.lstrip('x') }}"
                + "|{{ 'axx'.rstrip('x') }}|{{ 'a</think>b'.split('</think>')[-1] }}|{{ ' a  b '.split()|length }}"
                + "|{{ 'a,b,,c'.split(',')|join('/') }}|{{ 'a,b,c'.split(',', 1)|last }}|{{ 'Ab'.upper() }}"
                + "{{ 'Ab'.lower() }}|{% if 'abc'.startswith('ab') and 'abc'.endswith('bc')"
                + " and not 'abc'.startswith('b') %}yes{% endif %}|{{ 'aaa'.replace('a', 'b', 2) }}";
        assertEquals("a b|a|a|a|b|2|a/b//c|b,c|ABab|yes|bba", render(template, Map.of()));
    }

    @Test
    void namespaceKeywordArgumentsTakeWholeExpressionsAndSurviveLoops() {
        String template = "{% set ns = namespace(last=items|length - 1, found=false) %}{% for i in items %}"
                + "{% if i == 'b' %}{% set ns.found = true %}{% set ns.last = loop.index0 %}{% endif %}{% endfor %}"
                + "{{ ns.last }}{% if ns.found %}!{% endif %}";
        assertEquals("1!", render(template, Map.of("items", List.of("a", "b", "c"))));
        assertEquals("2", render(template, Map.of("items", List.of("x", "y", "z"))));
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        Map<String, Object> obj = new LinkedHashMap<>();
        obj.put("b", 1);
        obj.put("a", Arrays.asList(1.5, null, true, "\u00e9\"\n\u0001", 1e-7, 1e20, 100.0));
        String template = "{{ obj|tojson }}|{{ obj|tojson(indent=2) }}|{{ {'z': 1, 'a': 2}|tojson(sort_keys=true) }}";
        assertEquals("{\"b\": 1, \"a\": [1.5, null, true, \"\u00e9\\\"\\n\\u0001\", 1e-07, 1e+20, 100.0]}"
                + "|{\n  \"b\": 1,\n  \"a\": [\n    1.5,\n    null,\n    true,\n    \"\u00e9\\\"\\n\\u0001\",\n"
                + "    1e-07,\n    1e+20,\n    100.0\n  ]\n}|{\"a\": 2, \"z\": 1}",
                render(template, Map.of("obj", obj)));
    }

    @Test
    void trimStripsUnicodeWhitespaceLikePython() {
        assertEquals("[x y]", render("[{{ text|trim }}]", Map.of("text", "\u00a0\u3000 x y\t\n")));
    }

    @Test
    void trimBlocksLstripBlocksWhitespaceControlAndTrailingNewline() {
        assertEquals("x\ny z w", render("  {% if true %}\nx\n  {% endif %}\ny {{- ' z ' -}} w\n", Map.of()));
        assertEquals("a\n", render("a\r\n\n", Map.of()));
    }

    @Test
    void typeTests() {
        Map<String, Object> vars = new HashMap<>();
        vars.put("s", "x");
        vars.put("m", Map.of("k", 1));
        vars.put("n", null);
        assertEquals("ok", render("{% if s is string and m is mapping and m.k is defined and m.zz is not defined"
                + " and n is none %}ok{% endif %}", vars));
    }

    @Test
    void raiseExceptionSurfacesItsMessage() {
        String template = "{% for m in messages %}{% if m.role == 'tool' %}"
                + "{{ raise_exception('Conversation roles must alternate user/assistant') }}{% endif %}{% endfor %}";
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> render(template, Map.of("messages", List.of(Map.of("role", "tool")))));
        assertEquals("Conversation roles must alternate user/assistant", e.getMessage());
    }

    @Test
    void strftimeNow() {
        assertEquals(String.valueOf(Year.now().getValue()), render("{{ strftime_now('%Y') }}", Map.of()));
    }

    @Test
    void syntaxErrorIsATokenizerException() {
        assertThrows(TokenizerException.class, () -> render("{% if %}", Map.of()));
    }
}
