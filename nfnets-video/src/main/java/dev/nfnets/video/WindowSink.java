package dev.nfnets.video;

import org.bytedeco.javacv.CanvasFrame;

import java.awt.GraphicsEnvironment;
import java.awt.event.KeyAdapter;
import java.awt.event.KeyEvent;
import java.awt.event.WindowAdapter;
import java.awt.event.WindowEvent;
import java.awt.image.BufferedImage;
import javax.swing.WindowConstants;

/**
 * Shows the annotated frames in a window (JavaCV's {@link CanvasFrame}). {@code q}, Esc or closing the window calls
 * {@code onQuit} (the CLI stops the stream with it). Only where a display exists: see {@link #available()}.
 */
public final class WindowSink implements StreamSink {
    private final CanvasFrame canvas;

    /** @return true when a window can be opened (a display exists and AWT is not headless) */
    public static boolean available() {
        return !GraphicsEnvironment.isHeadless();
    }

    /**
     * @param title  the window title
     * @param onQuit called (on the AWT thread) on q, Esc or when the window is closed
     */
    public WindowSink(String title, Runnable onQuit) {
        if (!available()) {
            throw new IllegalStateException("no display for a window (headless); use --no-window");
        }
        canvas = new CanvasFrame(title, 1.0);
        canvas.setDefaultCloseOperation(WindowConstants.DO_NOTHING_ON_CLOSE);
        canvas.addWindowListener(new WindowAdapter() {
            @Override
            public void windowClosing(WindowEvent e) {
                onQuit.run();
            }
        });
        KeyAdapter keys = new KeyAdapter() {
            @Override
            public void keyPressed(KeyEvent e) {
                if (e.getKeyCode() == KeyEvent.VK_ESCAPE || e.getKeyChar() == 'q' || e.getKeyChar() == 'Q') {
                    onQuit.run();
                }
            }
        };
        canvas.addKeyListener(keys);
        canvas.getCanvas().addKeyListener(keys);
    }

    @Override
    public void frame(BufferedImage annotated, long index) {
        canvas.showImage(annotated);
    }

    @Override
    public void close() {
        canvas.dispose();
    }
}
