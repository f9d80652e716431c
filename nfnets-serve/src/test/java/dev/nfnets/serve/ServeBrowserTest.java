package dev.nfnets.serve;

import dev.nfnets.core.inference.ImageClassifier;
import dev.nfnets.core.inference.Prediction;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web page in a real browser: Debian's Chromium, headless, driven by Selenium through Debian's chromedriver,
 * with Chromium's fake camera (a moving test pattern). Skipped only when Chromium is not installed and the
 * {@code CI} variable is unset; under CI it must run ({@code .ci/run} installs chromium and chromium-driver).
 * Screenshots of both flows go to {@code target/screenshots/}.
 */
class ServeBrowserTest {
    static final Path CHROMIUM = Path.of(System.getProperty("nfnets.chromium", "/usr/bin/chromium"));
    static final Path CHROMEDRIVER = Path.of(System.getProperty("nfnets.chromedriver", "/usr/bin/chromedriver"));
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir
    static Path dir;
    static ImageClassifier classifier;
    static InferenceServer server;
    static ChromeDriver browser;

    @BeforeAll
    static void start() throws IOException {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        boolean ci = System.getenv("CI") != null && !System.getenv("CI").isBlank() && !"false".equals(System.getenv("CI"));
        assumeTrue(installed || ci, "browser tests skipped: " + CHROMIUM + " or " + CHROMEDRIVER + " is missing "
                + "(apt-get install chromium chromium-driver); under CI=true they run and fail instead");
        classifier = TestModels.fashionRun(dir.resolve("run"));
        server = InferenceServer.start(classifier, ServeOptions.defaults().withPort(0));
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream", "--window-size=1100,1300", "--disable-dev-shm-usage");
        // The driver executable is given, so Selenium Manager is never asked to find or download one.
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void uploadShowsTheTopFiveAsBars() throws IOException {
        Path image = dir.resolve("shape.png");
        Files.write(image, TestModels.encode(TestModels.image(2), "png"));
        List<Prediction> expected = classifier.classify(TestModels.image(2), 5);
        browser.get(server.url() + "/");
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(20));
        wait.until(d -> d.findElement(By.id("model-info")).getText().contains("nfnet-mnist"));
        browser.findElement(By.id("file-input")).sendKeys(image.toAbsolutePath().toString());
        wait.until(d -> d.findElements(By.cssSelector("#bars li")).size() == 5);
        List<WebElement> bars = browser.findElements(By.cssSelector("#bars li"));
        for (int k = 0; k < 5; k++) {
            assertEquals(expected.get(k).label(), bars.get(k).findElement(By.className("label")).getText(), "bar " + k);
            String pct = String.format(java.util.Locale.ROOT, "%.1f%%", 100 * expected.get(k).probability());
            assertEquals(pct, bars.get(k).findElement(By.className("pct")).getText(), "bar " + k);
        }
        String status = browser.findElement(By.id("upload-status")).getText();
        assertTrue(status.startsWith("shape.png: " + expected.get(0).label()), status);
        screenshot("upload.png");
    }

    @Test
    void cameraFramesAreClassifiedLiveWithLabelAndRate() throws IOException {
        browser.get(server.url() + "/");
        // Generous: on a loaded two-core machine Chromium's JPEG encoding alone can take a second per frame.
        WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(90));
        wait.until(d -> d.findElement(By.id("model-info")).getText().contains("nfnet-mnist"));
        long before = server.metrics().requests("/v1/classify", 200);
        browser.findElement(By.id("camera-button")).click();
        wait.withMessage(() -> "page shows camera status '" + browser.findElement(By.id("camera-status")).getText()
                + "', label '" + browser.findElement(By.id("camera-label")).getText() + "', rate '"
                + browser.findElement(By.id("camera-rate")).getText() + "'").until(d -> d.findElement(By.id("camera-rate")).getText().matches("[0-9.]+ frames/s")
                && !d.findElement(By.id("camera-rate")).getText().startsWith("0.0"));
        String label = browser.findElement(By.id("camera-label")).getText();
        assertTrue(TestModels.FASHION.contains(label), "camera label '" + label + "' is not a class name");
        String status = browser.findElement(By.id("camera-status")).getText();
        assertTrue(status.startsWith("camera on"), status);
        Object videoWidth = browser.executeScript("return document.getElementById('video').videoWidth");
        assertTrue(((Number) videoWidth).intValue() > 0, "the fake camera's video is not playing");
        assertTrue(server.metrics().requests("/v1/classify", 200) - before >= 2, "frames did not reach the server");
        screenshot("camera.png");
        browser.findElement(By.id("camera-button")).click();
        wait.withMessage(() -> "page shows camera status '" + browser.findElement(By.id("camera-status")).getText()
                + "', label '" + browser.findElement(By.id("camera-label")).getText() + "', rate '"
                + browser.findElement(By.id("camera-rate")).getText() + "'").until(d -> d.findElement(By.id("camera-status")).getText().equals("camera off"));
    }

    private static void screenshot(String name) throws IOException {
        File shot = browser.getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), SCREENSHOTS.resolve(name), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertTrue(Files.size(SCREENSHOTS.resolve(name)) > 1000);
    }
}
