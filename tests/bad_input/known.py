"""Failures of the battery found and not fixed yet: one line per case, with its owner and what fails.

Each runs as a strict xfail (``test_bad_input.py``): fixing the library makes it
XPASS, and then its line goes. ``test_every_known_failure_is_a_case`` keeps the
table free of cases that no longer exist. The message after the owner is what the
battery saw (``KIND: message``, KIND one of OPAQUE, SILENT, UNNAMED, WRONG-TYPE, DIFFERENT).
"""

KNOWN = {
    "eegbin.kernels.binary_conv1d:scales:bool":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: float64(3, 4, 7)",
    "eegbin.kernels.binary_conv1d:scales:complex":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: float64(3, 4, 7)",
    "eegbin.kernels.binary_conv1d:scales:nan":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name scales: x_scales contains NaN or Inf",
    "eegbin.kernels.binary_conv1d:scales:neginf":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name scales: x_scales contains NaN or Inf",
    "eegbin.kernels.binary_conv1d:scales:object":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: TypeError does not name scales: float() argument must be a string or a real number, not 'dict'",
    "eegbin.kernels.binary_conv1d:scales:posinf":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name scales: x_scales contains NaN or Inf",
    "eegbin.kernels.binary_conv1d:scales:string":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: float64(3, 4, 7)",
    "eegbin.kernels.binary_conv1d:signs:empty":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError: scales must have shape (0,) or (0, 3), got (1,)",
    "eegbin.kernels.binary_conv1d:weight_planes:empty":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError: need at least one array to stack",
    "eegbin.kernels.binary_conv1d:weight_planes:ndim_high":
        "owner: kernels (issue 19 xnor.py, merged during this session): WRONG-TYPE: TypeError, the rule says ValueError: weight_planes must be a boolean ndarray of shape (levels, filters, channels, taps), got (1, 4, 2, 3, 1)",
    "eegbin.kernels.binary_conv1d:weight_planes:ndim_low":
        "owner: kernels (issue 19 xnor.py, merged during this session): WRONG-TYPE: TypeError, the rule says ValueError: weight_planes must be a boolean ndarray of shape (levels, filters, channels, taps), got (4, 2, 3)",
    "eegbin.kernels.binary_conv1d:weight_scales:bool":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: TypeError does not name weight_scales: w_scales must hold real numbers (integer or float), got dtype bool",
    "eegbin.kernels.binary_conv1d:weight_scales:complex":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name weight_scales: Complex data not supported: w_scales must hold real numbers, got dtype complex128",
    "eegbin.kernels.binary_conv1d:weight_scales:empty":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name weight_scales: w_scales must have shape (1,) or (1, 4) for W_planes of shape (1, 4, 1), got (0,)",
    "eegbin.kernels.binary_conv1d:weight_scales:nan":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name weight_scales: w_scales contains NaN or Inf",
    "eegbin.kernels.binary_conv1d:weight_scales:ndim_high":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name weight_scales: w_scales must have shape (1,) or (1, 4) for W_planes of shape (1, 4, 1), got (1, 1, 1)",
    "eegbin.kernels.binary_conv1d:weight_scales:ndim_low":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name weight_scales: w_scales must have shape (1,) or (1, 4) for W_planes of shape (1, 4, 1), got ()",
    "eegbin.kernels.binary_conv1d:weight_scales:neginf":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name weight_scales: w_scales contains NaN or Inf",
    "eegbin.kernels.binary_conv1d:weight_scales:object":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: TypeError does not name weight_scales: w_scales must hold real numbers (integer or float), got dtype object",
    "eegbin.kernels.binary_conv1d:weight_scales:object_numbers":
        "owner: kernels (issue 19 xnor.py, merged during this session): DIFFERENT: refused what C-order float64 accepts: TypeError: w_scales must hold real numbers (integer or float), got dtype object",
    "eegbin.kernels.binary_conv1d:weight_scales:posinf":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name weight_scales: w_scales contains NaN or Inf",
    "eegbin.kernels.binary_conv1d:weight_scales:string":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: TypeError does not name weight_scales: w_scales must hold real numbers (integer or float), got dtype <U32",
    "eegbin.kernels.lstm_layer_operands:wx_planes:word_count":
        "owner: kernels (issue 19 xnor.py, merged during this session): UNNAMED: ValueError does not name wx_planes: n_inputs=3 needs 1 words per row, but the rows have 2",
    "eegbin.kernels.separable_to_full:depthwise_signs:wrong_dtype":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:depthwise_signs:wrong_dtype1":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:depthwise_signs:wrong_dtype2":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:depthwise_signs:wrong_dtype3":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:depthwise_signs:wrong_dtype4":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:pointwise_signs:empty":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(0, 3, 4)",
    "eegbin.kernels.separable_to_full:pointwise_signs:wrong_dtype":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:pointwise_signs:wrong_dtype1":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:pointwise_signs:wrong_dtype2":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:pointwise_signs:wrong_dtype3":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
    "eegbin.kernels.separable_to_full:pointwise_signs:wrong_dtype4":
        "owner: kernels (issue 19 xnor.py, merged during this session): SILENT: accepted, returned out: bool(5, 3, 4)",
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
