package dev.nfnets.video;

import dev.nfnets.core.inference.Prediction;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Draws the top-k labels with their probabilities and the smoothed inference rate onto a copy of a frame. */
public final class Annotator {
    private Annotator() {
    }

    /**
     * @param frame   the RGB frame (not modified)
     * @param latest  the latest prediction, or null before the first one
     * @param dropped how many frames were skipped so far because the model was busy
     * @return a new {@link BufferedImage#TYPE_3BYTE_BGR} image (what FFmpeg's recorder and the window take)
     */
    public static BufferedImage annotate(BufferedImage frame, StreamPrediction latest, long dropped) {
        BufferedImage out = new BufferedImage(frame.getWidth(), frame.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = out.createGraphics();
        try {
            g.drawImage(frame, 0, 0, null);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            int fontSize = Math.max(10, Math.min(28, frame.getHeight() / 22));
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, fontSize));
            List<String> lines = new ArrayList<>();
            if (latest == null) {
                lines.add("waiting for the model ...");
            } else {
                for (Prediction p : latest.top()) {
                    lines.add(String.format(Locale.ROOT, "%5.1f%%  %s", 100 * p.probability(), p.label()));
                }
                lines.add(String.format(Locale.ROOT, "%.1f inferences/s  %.0f ms  dropped %d",
                        latest.ratePerSecond(), latest.inferenceMs(), dropped));
            }
            FontMetrics fm = g.getFontMetrics();
            int lineH = fm.getHeight();
            int width = 0;
            for (String l : lines) {
                width = Math.max(width, fm.stringWidth(l));
            }
            int pad = Math.max(4, fontSize / 3);
            g.setColor(new Color(0, 0, 0, 150));
            g.fillRect(pad, pad, width + 2 * pad, lines.size() * lineH + pad);
            int y = pad + pad / 2 + fm.getAscent();
            for (int i = 0; i < lines.size(); i++) {
                boolean status = latest != null && i == lines.size() - 1;
                g.setColor(i == 0 && latest != null ? new Color(255, 220, 40) : status ? new Color(120, 220, 255) : Color.WHITE);
                g.drawString(lines.get(i), 2 * pad, y + i * lineH);
            }
        } finally {
            g.dispose();
        }
        return out;
    }
}
