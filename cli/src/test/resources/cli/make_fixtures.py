# Writes the pandas-made Arrow fixtures of the CLI tests (pandas 3.0.6, pyarrow 25.0.1):
#   python make_fixtures.py
import pandas as pd
import pyarrow.feather as feather

df = pd.DataFrame(
    {
        "id": ["a", "b", "c"],
        "prompt": ["Hello", None, None],
        "prompt_token_ids": [None, [1, 2, 3], None],
        "messages": [None, None, [{"role": "user", "content": "hi"}]],
        "max_tokens": [8, None, 4],  # becomes float64 (8.0, NaN, 4.0), as pandas stores ints with gaps
        "temperature": [0.7, None, None],
        "stop": [["\n"], None, None],
    },
    index=[5, 9, 11],  # a non-default index, stored as an __index_level_0__ column
)
feather.write_feather(df, "pandas.arrow", compression="uncompressed")
feather.write_feather(df, "pandas-lz4.arrow")  # pandas' default: LZ4-compressed batches
