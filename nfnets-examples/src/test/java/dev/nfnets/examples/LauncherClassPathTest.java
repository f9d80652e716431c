package dev.nfnets.examples;

import dev.nfnets.core.NFNet;
import dev.nfnets.core.NFNetConfig;
import dev.nfnets.core.NFNets;
import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.serve.InferenceServer;
import dev.nfnets.serve.ServeOptions;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * This module's runtime class path is the launcher's ({@code ./nfnets}): every optional module must work on it
 * together, not only alone in its own module's tests. Spark and the HTTP server both bring a servlet API under the
 * same Maven coordinate, and Maven keeps one version of it.
 */
class LauncherClassPathTest {
    @Test
    void bothServletApisAreThere() {
        assertDoesNotThrow(() -> Class.forName("jakarta.servlet.ServletInputStream"), "Jetty 12 (nfnets serve) needs jakarta.servlet 6");
        assertDoesNotThrow(() -> Class.forName("javax.servlet.http.HttpServlet"), "Spark's UI needs javax.servlet");
        assertDoesNotThrow(() -> Class.forName("org.apache.spark.SparkContext"));
    }

    @Test
    void theServerAnswersWithSparkOnTheClassPath() throws Exception {
        NFNetConfig c = NFNetConfig.builder(NFNetConfig.byName("mnist")).numClasses(3).build();
        ImageClassifier classifier = NFNets.classifier(new NFNet(c, 1));
        try (InferenceServer server = InferenceServer.start(classifier, ServeOptions.defaults().withPort(0))) {
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(img, "png", png);
            HttpResponse<String> r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build().send(
                    HttpRequest.newBuilder(URI.create(server.url() + "/v1/classify?top=2"))
                            .header("Content-Type", "image/png")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(png.toByteArray())).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("probability"), r.body());
        }
    }
}
