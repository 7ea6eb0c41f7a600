using System.Text.Json;
using HierRec.Serialization;

namespace HierRec.Text;

// Reading and writing the tokenizer files a Hugging Face folder may carry: vocab.txt, tokenizer_config.json and
// tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece). Anything else is refused, naming the part.
public sealed partial class BertTokenizer
{
    /// <summary>
    /// Loads the tokenizer of a Hugging Face folder. With tokenizer.json (the "fast" tokenizer file), that file defines
    /// the tokenizer, as in Hugging Face; otherwise vocab.txt does, with tokenizer_config.json's do_lower_case,
    /// strip_accents, tokenize_chinese_chars, special tokens and model_max_length. tokenizer_config.json's
    /// model_max_length applies in both cases.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder has neither vocab.txt nor tokenizer.json (the message names the folder).</exception>
    /// <exception cref="InvalidDataException">A file is malformed or asks for something HierRec does not support, naming the file and field.</exception>
    public static BertTokenizer FromFolder(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Tokenizer folder '{folder}' does not exist.");
        string json = Path.Combine(folder, "tokenizer.json"), vocab = Path.Combine(folder, "vocab.txt"), config = Path.Combine(folder, "tokenizer_config.json");
        var fromConfig = File.Exists(config) ? ReadConfig(config) : null;
        if (File.Exists(json)) return FromTokenizerJson(json, fromConfig);
        if (!File.Exists(vocab))
            throw new FileNotFoundException($"{folder}: no tokenizer: the folder has neither vocab.txt nor tokenizer.json.", vocab);
        return Create(vocab, fromConfig ?? new BertTokenizerOptions());
    }

    /// <summary>Loads a Hugging Face tokenizer.json: a BertNormalizer, a BertPreTokenizer and a WordPiece model.</summary>
    /// <param name="path">The tokenizer.json file.</param>
    /// <param name="modelMaxLength">The model's maximum length, when known from elsewhere (tokenizer_config.json).</param>
    /// <exception cref="InvalidDataException">A part is missing, malformed or not supported, naming the field.</exception>
    public static BertTokenizer FromTokenizerJson(string path, int? modelMaxLength = null) =>
        FromTokenizerJson(path, modelMaxLength is null ? null : new BertTokenizerOptions { ModelMaxLength = modelMaxLength });

    /// <summary>tokenizer.json, with tokenizer_config.json's model_max_length and [PAD] / [MASK] names when given.</summary>
    private static BertTokenizer FromTokenizerJson(string path, BertTokenizerOptions? config)
    {
        int? modelMaxLength = config?.ModelMaxLength;
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var doc = Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: not a JSON object.");

        // model: WordPiece with its vocabulary.
        var model = Property(root, "model", path) ?? throw new InvalidDataException($"{path}: model is missing.");
        string modelType = String(model, "type", path, "model.type") ?? "WordPiece";
        if (modelType != "WordPiece") throw new InvalidDataException($"{path}: model.type '{modelType}' is not supported (HierRec reads BERT's WordPiece).");
        var vocabObject = Property(model, "vocab", path) ?? throw new InvalidDataException($"{path}: model.vocab is missing.");
        if (vocabObject.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: model.vocab is not an object of token → id.");
        var byId = new Dictionary<int, string>();
        foreach (var entry in vocabObject.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                throw new InvalidDataException($"{path}: model.vocab[\"{entry.Name}\"] is not a non-negative integer id.");
            if (!byId.TryAdd(id, entry.Name)) throw new InvalidDataException($"{path}: model.vocab gives id {id} to both '{byId[id]}' and '{entry.Name}'.");
        }

        // added_tokens: special (or verbatim) tokens, which may extend the vocabulary.
        var special = new List<string>();
        if (Property(root, "added_tokens", path) is { } added)
        {
            if (added.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: added_tokens is not an array.");
            int index = 0;
            foreach (var t in added.EnumerateArray())
            {
                string where = $"added_tokens[{index++}]";
                string content = String(t, "content", path, where + ".content") ?? throw new InvalidDataException($"{path}: {where}.content is missing.");
                int id = t.TryGetProperty("id", out var idElement) && idElement.TryGetInt32(out int v) ? v : throw new InvalidDataException($"{path}: {where}.id is missing or not an integer.");
                foreach (var flag in new[] { "single_word", "lstrip", "rstrip" })
                    if (t.TryGetProperty(flag, out var f) && f.ValueKind == JsonValueKind.True)
                        throw new InvalidDataException($"{path}: {where} ('{content}') sets {flag}, which HierRec does not support.");
                bool isSpecial = t.TryGetProperty("special", out var s) && s.ValueKind == JsonValueKind.True;
                bool normalized = t.TryGetProperty("normalized", out var nz) && nz.ValueKind == JsonValueKind.True;
                if (normalized && !isSpecial)
                    throw new InvalidDataException($"{path}: {where} ('{content}') is a normalized added token, which HierRec does not support (only tokens matched verbatim).");
                if (byId.TryGetValue(id, out var existing) && existing != content)
                    throw new InvalidDataException($"{path}: {where} gives id {id} to '{content}', but model.vocab gives it to '{existing}'.");
                byId[id] = content;
                if (!special.Contains(content)) special.Add(content);
            }
        }
        var tokens = new string[byId.Count];
        for (int i = 0; i < tokens.Length; i++)
            tokens[i] = byId.TryGetValue(i, out var token) ? token : throw new InvalidDataException($"{path}: the vocabulary has {tokens.Length} tokens but no token with id {i}.");
        var duplicates = tokens.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicates is not null) throw new InvalidDataException($"{path}: token '{duplicates.Key}' has two ids.");

        // normalizer: BertNormalizer, or none.
        bool clean = false, cjk = false, lower = false;
        bool? strip = false;
        if (Property(root, "normalizer", path) is { } normalizer)
        {
            string type = String(normalizer, "type", path, "normalizer.type") ?? "";
            if (type != "BertNormalizer")
                throw new InvalidDataException($"{path}: normalizer.type '{type}' is not supported (HierRec reads BertNormalizer, or no normalizer).");
            clean = Bool(normalizer, "clean_text", path, "normalizer") ?? true;
            cjk = Bool(normalizer, "handle_chinese_chars", path, "normalizer") ?? true;
            lower = Bool(normalizer, "lowercase", path, "normalizer") ?? true;
            strip = Bool(normalizer, "strip_accents", path, "normalizer");
        }
        var pre = Property(root, "pre_tokenizer", path);
        string preType = pre is { } p ? String(p, "type", path, "pre_tokenizer.type") ?? "" : "(none)";
        if (preType != "BertPreTokenizer")
            throw new InvalidDataException($"{path}: pre_tokenizer.type '{preType}' is not supported (HierRec reads BertPreTokenizer).");

        string unk = String(model, "unk_token", path, "model.unk_token") ?? "[UNK]";
        string prefix = String(model, "continuing_subword_prefix", path, "model.continuing_subword_prefix") ?? "##";
        int maxChars = model.TryGetProperty("max_input_chars_per_word", out var mc) && mc.TryGetInt32(out int m) ? m : 100;
        var (cls, sep) = PostProcessor(root, path);
        bool cleanup = true;
        if (Property(root, "decoder", path) is { } decoder)
        {
            string type = String(decoder, "type", path, "decoder.type") ?? "";
            if (type != "WordPiece") throw new InvalidDataException($"{path}: decoder.type '{type}' is not supported (HierRec decodes WordPiece).");
            string decoderPrefix = String(decoder, "prefix", path, "decoder.prefix") ?? "##";
            if (decoderPrefix != prefix) throw new InvalidDataException($"{path}: decoder.prefix '{decoderPrefix}' differs from model.continuing_subword_prefix '{prefix}'.");
            cleanup = Bool(decoder, "cleanup", path, "decoder") ?? true;
        }
        if (Property(root, "padding", path) is not null)
            throw new InvalidDataException($"{path}: padding is set, which HierRec does not apply from the file; remove it and pad with Encode(padToLength) or EncodeBatch.");
        if (Property(root, "truncation", path) is { } truncation && truncation.TryGetProperty("max_length", out var ml) && ml.TryGetInt32(out int maxLength))
            modelMaxLength ??= maxLength;

        var options = new BertTokenizerOptions
        {
            CleanText = clean, TokenizeChineseChars = cjk, LowerCase = lower, StripAccents = strip,
            MaxInputCharsPerWord = maxChars, ContinuingSubwordPrefix = prefix, UnknownToken = unk,
            ClassificationToken = cls, SeparatorToken = sep,
            PaddingToken = config?.PaddingToken ?? "[PAD]",
            MaskingToken = config?.MaskingToken ?? "[MASK]",
            SpecialTokens = special, ModelMaxLength = modelMaxLength, CleanUpTokenizationSpaces = cleanup,
        };
        var map = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++) map[tokens[i]] = i;
        return new BertTokenizer(map, tokens, options, path);
    }

    /// <summary>
    /// Writes vocab.txt and tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars, the special
    /// tokens, model_max_length) into <paramref name="folder"/>, each file atomically, so that
    /// <see cref="FromFolder"/> and Hugging Face's BertTokenizer read the same tokenizer back.
    /// </summary>
    public void Save(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Directory.CreateDirectory(folder);
        SaveVocabulary(Path.Combine(folder, "vocab.txt"));
        var config = new Dictionary<string, object?>
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = _options.LowerCase,
            ["strip_accents"] = _options.StripAccents,
            ["tokenize_chinese_chars"] = _options.TokenizeChineseChars,
            ["unk_token"] = _options.UnknownToken,
            ["cls_token"] = _options.ClassificationToken,
            ["sep_token"] = _options.SeparatorToken,
            ["pad_token"] = _options.PaddingToken,
            ["mask_token"] = _options.MaskingToken,
            ["clean_up_tokenization_spaces"] = _options.CleanUpTokenizationSpaces,
        };
        var named = new HashSet<string> { _options.UnknownToken, _options.ClassificationToken, _options.SeparatorToken, _options.PaddingToken, _options.MaskingToken };
        var additional = _options.SpecialTokens.Where(t => !named.Contains(t)).ToArray();
        if (additional.Length > 0) config["additional_special_tokens"] = additional;
        if (_options.ModelMaxLength is int max) config["model_max_length"] = max;
        if (_options.MaxInputCharsPerWord != 100 || _options.ContinuingSubwordPrefix != "##" || !_options.CleanText)
            config["hierrec"] = new Dictionary<string, object> { ["max_input_chars_per_word"] = _options.MaxInputCharsPerWord, ["continuing_subword_prefix"] = _options.ContinuingSubwordPrefix, ["clean_text"] = _options.CleanText };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(config, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(Path.Combine(folder, "tokenizer_config.json"), s => s.Write(bytes));
    }

    /// <summary>The options tokenizer_config.json states (fields it does not name keep their defaults).</summary>
    internal static BertTokenizerOptions ReadConfig(string path)
    {
        using var doc = Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: not a JSON object.");
        var defaults = new BertTokenizerOptions();
        string? Token(string name) => Property(root, name, path) is { } e
            ? e.ValueKind == JsonValueKind.String ? e.GetString()
            : e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()
            : throw new InvalidDataException($"{path}: {name} is neither a string nor an object with \"content\".")
            : null;
        if (Property(root, "never_split", path) is { ValueKind: JsonValueKind.Array } neverSplit && neverSplit.GetArrayLength() > 0)
            throw new InvalidDataException($"{path}: never_split is not supported; list such tokens in additional_special_tokens instead.");
        var additional = new List<string>(defaults.SpecialTokens);
        if (Property(root, "additional_special_tokens", path) is { } extra)
        {
            if (extra.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: additional_special_tokens is not an array.");
            int i = 0;
            foreach (var e in extra.EnumerateArray())
            {
                string? t = e.ValueKind == JsonValueKind.String ? e.GetString()
                    : e.ValueKind == JsonValueKind.Object && e.TryGetProperty("content", out var c) ? c.GetString() : null;
                if (string.IsNullOrEmpty(t)) throw new InvalidDataException($"{path}: additional_special_tokens[{i}] is not a token.");
                if (!additional.Contains(t)) additional.Add(t);
                i++;
            }
        }
        int? maxLength = null;
        if (Property(root, "model_max_length", path) is { } mml)
        {
            if (mml.ValueKind != JsonValueKind.Number || !mml.TryGetDouble(out double value) || value < 2)
                throw new InvalidDataException($"{path}: model_max_length is not a number ≥ 2.");
            // Hugging Face writes 1e30 ("very large") when the model states no limit.
            if (value <= int.MaxValue) maxLength = (int)value;
        }
        JsonElement? hierrec = Property(root, "hierrec", path);
        return new BertTokenizerOptions
        {
            LowerCase = Bool(root, "do_lower_case", path, "") ?? defaults.LowerCase,
            StripAccents = Bool(root, "strip_accents", path, ""),
            TokenizeChineseChars = Bool(root, "tokenize_chinese_chars", path, "") ?? defaults.TokenizeChineseChars,
            UnknownToken = Token("unk_token") ?? defaults.UnknownToken,
            ClassificationToken = Token("cls_token") ?? defaults.ClassificationToken,
            SeparatorToken = Token("sep_token") ?? defaults.SeparatorToken,
            PaddingToken = Token("pad_token") ?? defaults.PaddingToken,
            MaskingToken = Token("mask_token") ?? defaults.MaskingToken,
            SpecialTokens = additional,
            ModelMaxLength = maxLength,
            CleanUpTokenizationSpaces = Bool(root, "clean_up_tokenization_spaces", path, "") ?? true,
            MaxInputCharsPerWord = hierrec is { } h && h.TryGetProperty("max_input_chars_per_word", out var mc) && mc.TryGetInt32(out int m) ? m : defaults.MaxInputCharsPerWord,
            ContinuingSubwordPrefix = hierrec is { } h2 && h2.TryGetProperty("continuing_subword_prefix", out var pf) && pf.ValueKind == JsonValueKind.String ? pf.GetString()! : defaults.ContinuingSubwordPrefix,
            CleanText = hierrec is { } h3 && h3.TryGetProperty("clean_text", out var ct) && ct.ValueKind == JsonValueKind.False ? false : defaults.CleanText,
        };
    }

    /// <summary>The [CLS] and [SEP] of the post-processor: BertProcessing, or TemplateProcessing of BERT's shape, or none.</summary>
    private static (string Cls, string Sep) PostProcessor(JsonElement root, string path)
    {
        if (Property(root, "post_processor", path) is not { } post) return ("[CLS]", "[SEP]");
        string type = String(post, "type", path, "post_processor.type") ?? "";
        if (type == "BertProcessing")
        {
            static string First(JsonElement e) => e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2 && e[0].ValueKind == JsonValueKind.String ? e[0].GetString()! : "";
            string cls = post.TryGetProperty("cls", out var c) ? First(c) : "", sep = post.TryGetProperty("sep", out var s) ? First(s) : "";
            if (cls.Length == 0 || sep.Length == 0) throw new InvalidDataException($"{path}: post_processor (BertProcessing) lacks cls or sep as [token, id].");
            return (cls, sep);
        }
        if (type != "TemplateProcessing")
            throw new InvalidDataException($"{path}: post_processor.type '{type}' is not supported (HierRec writes [CLS] A [SEP] B [SEP]: BertProcessing or that TemplateProcessing).");
        string Describe(string name)
        {
            if (!post.TryGetProperty(name, out var items) || items.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: post_processor.{name} is missing.");
            return string.Join(" ", items.EnumerateArray().Select(i =>
                i.TryGetProperty("SpecialToken", out var st) ? $"{st.GetProperty("id").GetString()}:{st.GetProperty("type_id").GetInt32()}"
                : i.TryGetProperty("Sequence", out var sq) ? $"${sq.GetProperty("id").GetString()}:{sq.GetProperty("type_id").GetInt32()}" : "?"));
        }
        string single = Describe("single"), pair = Describe("pair");
        var parts = single.Split(' ');
        if (parts.Length != 3 || parts[1] != "$A:0" || !parts[0].EndsWith(":0", StringComparison.Ordinal) || !parts[2].EndsWith(":0", StringComparison.Ordinal))
            throw new InvalidDataException($"{path}: post_processor.single is '{single}', not BERT's [CLS] $A [SEP].");
        string clsToken = parts[0][..^2], sepToken = parts[2][..^2];
        string expectedPair = $"{clsToken}:0 $A:0 {sepToken}:0 $B:1 {sepToken}:1";
        if (pair != expectedPair) throw new InvalidDataException($"{path}: post_processor.pair is '{pair}', not BERT's '{expectedPair}'.");
        return (clsToken, sepToken);
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({ex.Message}).", ex);
        }
    }

    private static JsonElement? Property(JsonElement e, string name, string path) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? String(JsonElement e, string name, string path, string field) => Property(e, name, path) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw new InvalidDataException($"{path}: {field} is not a string.")
        : null;

    private static bool? Bool(JsonElement e, string name, string path, string parent) => Property(e, name, path) is { } v
        ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{path}: {(parent.Length > 0 ? parent + "." : "")}{name} is not true, false or null."),
        }
        : null;
}
