// Golden token ids for HierRec's BertTokenizer, from an independent implementation: the Hugging Face tokenizers as
// ported to JavaScript in the npm package @huggingface/transformers.
//
//   npm install --prefix /tmp/hf @huggingface/transformers --ignore-scripts
//   node tests/HierRec.Tests/Text/Golden/make_tokenizer_golden.cjs /tmp/hf/node_modules ../shared/models
//
// bert-base-chinese uses its published tokenizer.json; bert-base-uncased ships only vocab.txt, so the standard BERT
// uncased tokenizer.json (BertNormalizer with lowercasing, BertPreTokenizer, WordPiece) is assembled around it.
// Writes tokenizer_golden.json beside this script: for each vocabulary, the ids of every corpus string with [CLS]
// and [SEP], and of consecutive string pairs (with token type ids).
const fs = require('fs');
const path = require('path');
const [modulesDir, modelsDir] = process.argv.slice(2);
if (!modulesDir || !modelsDir) { console.error('usage: node make_tokenizer_golden.cjs <node_modules> <models folder>'); process.exit(2); }
const { PreTrainedTokenizer } = require(path.join(modulesDir, '@huggingface/transformers'));

function special(id, content) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true };
}

function uncasedTokenizerJson(vocabPath) {
  const vocab = {};
  fs.readFileSync(vocabPath, 'utf8').split('\n').forEach((line, i) => { if (line.length > 0 || i === 0) vocab[line.replace(/\r$/, '')] = i; });
  delete vocab[''];
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [special(0, '[PAD]'), special(100, '[UNK]'), special(101, '[CLS]'), special(102, '[SEP]'), special(103, '[MASK]')],
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
             { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}

const here = __dirname;
const corpus = JSON.parse(fs.readFileSync(path.join(here, 'tokenizer_corpus.json'), 'utf8')).texts;
const tokenizers = {
  'bert-base-uncased': new PreTrainedTokenizer(uncasedTokenizerJson(path.join(modelsDir, 'bert-base-uncased', 'vocab.txt')),
    { do_lower_case: true, model_max_length: 1000000 }),
  'bert-base-chinese': new PreTrainedTokenizer(JSON.parse(fs.readFileSync(path.join(modelsDir, 'bert-base-chinese', 'tokenizer.json'), 'utf8')),
    { ...JSON.parse(fs.readFileSync(path.join(modelsDir, 'bert-base-chinese', 'tokenizer_config.json'), 'utf8')), model_max_length: 1000000 }),
};
const out = { format: 'hierrec-tokenizer-golden', version: 1, generator: 'tests/HierRec.Tests/Text/Golden/make_tokenizer_golden.cjs', vocabularies: {} };
for (const [name, tok] of Object.entries(tokenizers)) {
  const single = corpus.map(t => Array.from(tok(t, { add_special_tokens: true }).input_ids.data, Number));
  const pairs = [];
  for (let i = 0; i + 1 < corpus.length; i += 10) {
    const e = tok(corpus[i], { text_pair: corpus[i + 1], add_special_tokens: true, return_token_type_ids: true });
    pairs.push({ a: i, b: i + 1, ids: Array.from(e.input_ids.data, Number), types: Array.from(e.token_type_ids.data, Number) });
  }
  out.vocabularies[name] = { single, pairs };
}
fs.writeFileSync(path.join(here, 'tokenizer_golden.json'), JSON.stringify(out));
console.log('wrote', corpus.length, 'texts ×', Object.keys(tokenizers).length, 'vocabularies');
