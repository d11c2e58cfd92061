"""Failures of the battery found and not fixed yet: one line per case, with its owner and what fails.

Each runs as a strict xfail (``test_bad_input.py``): fixing the library makes it
XPASS, and then its line goes. ``test_every_known_failure_is_a_case`` keeps the
table free of cases that no longer exist. The message after the owner is what the
battery saw (``KIND: message``, KIND one of OPAQUE, SILENT, UNNAMED, WRONG-TYPE, DIFFERENT).
"""

KNOWN = {
    "eegbin.nn.lstm_layer_forward:bias:complex":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): WRONG-TYPE: TypeError, the rule says ValueError: bias must hold real numbers, got dtype complex128",
    "eegbin.nn.lstm_layer_forward:w_hh:complex":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): WRONG-TYPE: TypeError, the rule says ValueError: w_hh must hold real numbers, got dtype complex128",
    "eegbin.nn.lstm_layer_forward:w_ih:complex":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): WRONG-TYPE: TypeError, the rule says ValueError: w_ih must hold real numbers, got dtype complex128",
    "eegbin.nn.lstm_layer_forward:x:complex":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): WRONG-TYPE: TypeError, the rule says ValueError: x must hold real numbers, got dtype complex128",
    "eegbin.nn.pwl_apply:z:bool":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): SILENT: accepted, returned out: float64(3, 4)",
    "eegbin.nn.pwl_apply:z:complex":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): UNNAMED: TypeError does not name z: Cannot cast array data from dtype('complex128') to dtype('float64') according to the rule 'safe'",
    "eegbin.nn.pwl_apply:z:nan":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): SILENT: accepted, returned out: float64(3, 4) with NaN/Inf",
    "eegbin.nn.pwl_apply:z:neginf":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): SILENT: accepted, returned out: float64(3, 4)",
    "eegbin.nn.pwl_apply:z:object":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): UNNAMED: TypeError does not name z: Cannot cast array data from dtype('O') to dtype('float64') according to the rule 'safe'",
    "eegbin.nn.pwl_apply:z:object_numbers":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): DIFFERENT: refused what C-order float64 accepts: TypeError: Cannot cast array data from dtype('O') to dtype('float64') according to the rule 'safe'",
    "eegbin.nn.pwl_apply:z:posinf":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): SILENT: accepted, returned out: float64(3, 4)",
    "eegbin.nn.pwl_apply:z:string":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): UNNAMED: TypeError does not name z: Cannot cast array data from dtype('<U32') to dtype('float64') according to the rule 'safe'",
    "eegbin.nn.pwl_table:n_segments:hp_bool":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): WRONG-TYPE: ValueError, the rule says TypeError: n_segments must be an integer >= 1, got True",
    "eegbin.nn.pwl_table:n_segments:hp_fraction":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): WRONG-TYPE: ValueError, the rule says TypeError: n_segments must be an integer >= 1, got 8.5",
    "eegbin.nn.pwl_table:n_segments:hp_string":
        "owner: nn (LSTM/MuBiNN engineers, changing nn/ concurrently): WRONG-TYPE: ValueError, the rule says TypeError: n_segments must be an integer >= 1, got '8'",
    "eegbin.binary.random_bipolar_projection:n_components:hp_range2":
        "owner: binary (merged with the papers work during this session): UNNAMED: sparse_ternary_block's size check names n_cols, not n_components",
    "eegbin.binary.random_bipolar_projection:n_features:hp_range2":
        "owner: binary (merged with the papers work during this session): UNNAMED: sparse_ternary_block's size check names n_cols, not n_features",
}
