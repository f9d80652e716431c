package dev.nfnets.core.weights;

import dev.nfnets.core.NFBlock;
import dev.nfnets.core.NFNet;
import dev.nfnets.layers.Parameter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The three naming schemes a model's weights can be stored in. All mapping between our parameter tree
 * and external names lives here.
 *
 * <table>
 * <caption>examples</caption>
 * <tr><th>ours</th><th>{@link #DEEPMIND}</th><th>{@link #TIMM}</th></tr>
 * <tr><td>stem.conv0.weight (HWIO)</td><td>NFNet/~/stem_conv0/w (HWIO)</td><td>stem.conv1.weight (OIHW)</td></tr>
 * <tr><td>stages.2.0.conv1b.gain</td><td>NFNet/~/nf_block_3/~/conv1b/gain</td><td>stages.2.0.conv2b.gain (O,1,1,1)</td></tr>
 * <tr><td>stages.0.0.squeeze_excite.linear.weight (in,out)</td><td>NFNet/~/nf_block/~/squeeze_excite/~/linear/w</td>
 *     <td>stages.0.0.attn_last.fc1.weight (out,in,1,1)</td></tr>
 * <tr><td>stages.1.0.skip_gain (1)</td><td>NFNet/~/nf_block_1/skip_gain ()</td><td>stages.1.0.skipinit_gain ()</td></tr>
 * <tr><td>classifier.weight (in,K)</td><td>NFNet/~/linear/w</td><td>head.fc.weight (K,in)</td></tr>
 * </table>
 */
public enum WeightFormat {
    /** DeepMind Haiku names and layouts (HWIO kernels, (in,out) dense), stored as .npz. */
    DEEPMIND,
    /** timm {@code dm_nfnet_*} names and PyTorch layouts, stored as .safetensors. */
    TIMM,
    /** This library's own parameter names and layouts, stored as .safetensors with the config in the metadata. */
    NATIVE;

    /** One tensor: our name and shape, its name in this format and how to convert. */
    public record Entry(String ours, String external, long[] ourShape, Layout layout) {
        public long[] externalShape() {
            return layout.externalShape(ourShape);
        }
    }

    /** Our parameter name to this format's entry, for every parameter of {@code model}, in model order. */
    public Map<String, Entry> entries(NFNet model) {
        Map<String, Entry> out = new LinkedHashMap<>();
        Map<String, Integer> blockIndex = new LinkedHashMap<>();
        for (NFBlock b : model.blocks()) {
            NFBlock.BlockSpec s = b.spec();
            blockIndex.put("stages." + s.stage() + "." + s.indexInStage(), s.index());
        }
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue().shape();
            Entry entry = switch (this) {
                case NATIVE -> new Entry(name, name, shape, Layout.SAME);
                case DEEPMIND -> deepmind(name, shape, blockIndex);
                case TIMM -> timm(name, shape);
            };
            out.put(name, entry);
        }
        return out;
    }

    private static String[] split(String name) {
        int dot = name.lastIndexOf('.');
        return new String[] {name.substring(0, dot), name.substring(dot + 1)};
    }

    private static Entry deepmind(String name, long[] shape, Map<String, Integer> blockIndex) {
        String[] mp = split(name);
        String module = mp[0];
        String param = mp[1];
        String dmParam = switch (param) {
            case "weight" -> "w";
            case "bias" -> module.contains("linear") || module.equals("classifier") ? "b" : "bias";
            default -> param;
        };
        Layout layout = param.equals("skip_gain") ? Layout.SCALAR : Layout.SAME;
        String path;
        if (module.startsWith("stem.")) {
            path = "NFNet/~/stem_" + module.substring("stem.".length());
        } else if (module.equals("final_conv")) {
            path = "NFNet/~/final_conv";
        } else if (module.equals("classifier")) {
            path = "NFNet/~/linear";
        } else if (module.startsWith("stages.")) {
            String[] parts = module.split("\\.");
            String blockKey = parts[0] + "." + parts[1] + "." + parts[2];
            int k = blockIndex.get(blockKey);
            String block = "NFNet/~/" + (k == 0 ? "nf_block" : "nf_block_" + k);
            if (parts.length == 3) {
                path = block;   // skip_gain sits on the block module itself
            } else {
                StringBuilder sb = new StringBuilder(block);
                for (int i = 3; i < parts.length; i++) {
                    sb.append("/~/").append(parts[i]);
                }
                path = sb.toString();
            }
        } else {
            throw new IllegalStateException("no DeepMind name for parameter " + name);
        }
        return new Entry(name, path + "/" + dmParam, shape, layout);
    }

    private static Entry timm(String name, long[] shape) {
        String[] mp = split(name);
        String module = mp[0];
        String param = mp[1];
        if (module.equals("classifier")) {
            return new Entry(name, "head.fc." + param, shape, param.equals("weight") ? Layout.DENSE_TRANSPOSE : Layout.SAME);
        }
        if (param.equals("skip_gain")) {
            return new Entry(name, module + ".skipinit_gain", shape, Layout.SCALAR);
        }
        String tm;
        if (module.startsWith("stem.conv")) {
            tm = "stem.conv" + (Integer.parseInt(module.substring("stem.conv".length())) + 1);
        } else if (module.equals("final_conv")) {
            tm = module;
        } else {
            String[] parts = module.split("\\.");
            String block = parts[0] + "." + parts[1] + "." + parts[2];
            String sub = module.substring(block.length() + 1);
            tm = block + "." + switch (sub) {
                case "conv0" -> "conv1";
                case "conv1" -> "conv2";
                case "conv1b" -> "conv2b";
                case "conv2" -> "conv3";
                case "conv_shortcut" -> "downsample.conv";
                case "squeeze_excite.linear" -> "attn_last.fc1";
                case "squeeze_excite.linear_1" -> "attn_last.fc2";
                default -> throw new IllegalStateException("no timm name for parameter " + name);
            };
        }
        boolean se = module.contains("squeeze_excite");
        Layout layout = switch (param) {
            case "weight" -> se ? Layout.DENSE_TO_CONV1X1 : Layout.HWIO_TO_OIHW;
            case "gain" -> Layout.GAIN_O111;
            default -> Layout.SAME;
        };
        return new Entry(name, tm + "." + param, shape, layout);
    }
}
