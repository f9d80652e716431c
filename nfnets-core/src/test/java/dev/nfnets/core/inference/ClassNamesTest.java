package dev.nfnets.core.inference;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassNamesTest {

    @Test
    void imagenetHasTheThousandClassesInSynsetOrder() {
        List<String> n = ClassNames.imagenet1k();
        assertEquals(1000, n.size());
        assertEquals("tench", n.get(0));
        assertEquals("goldfish", n.get(1));
        assertEquals("great white shark", n.get(2));
        assertEquals("golden retriever", n.get(207));
        assertEquals("tabby", n.get(281));
        assertEquals("zebra", n.get(340));
        assertEquals("analog clock", n.get(409));
        assertEquals("digital clock", n.get(530));
        assertEquals("toilet tissue", n.get(999));
        assertTrue(n.get(134).startsWith("crane") && n.get(517).startsWith("crane"));
        assertTrue(n.get(638).startsWith("maillot") && n.get(639).startsWith("maillot"));
        assertSame(n, ClassNames.imagenet1k());
    }

    @Test
    void imagenetNamesAreUniqueEvenIgnoringCase() {
        Set<String> seen = new HashSet<>();
        for (String s : ClassNames.imagenet1k()) {
            assertTrue(!s.isBlank() && s.equals(s.strip()), "'" + s + "'");
            assertTrue(seen.add(s.toLowerCase(Locale.ROOT)), "duplicate: " + s);
        }
    }

    @Test
    void genericNamesAndDefaults() {
        assertEquals(List.of("class 0", "class 1", "class 2"), ClassNames.generic(3));
        assertEquals(ClassNames.generic(10), ClassNames.defaultFor(10));
        assertSame(ClassNames.imagenet1k(), ClassNames.defaultFor(1000));
        assertThrows(IllegalArgumentException.class, () -> ClassNames.generic(0));
    }
}
