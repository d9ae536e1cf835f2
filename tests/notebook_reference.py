"""What the notebook prints (shared/seed/notebook.txt), shared by the tests that check it."""

from __future__ import annotations

import numpy as np

# Cell 29: inputs, targets, starting weights, and the printed results (8 decimals).
X29 = np.array([[1.2, -0.4, 0.8], [-0.6, 2, -0.5], [0.3, -1.2, 1.7], [2.1, 0.5, -0.8]])
Y29 = np.eye(3)[[2, 0, 1, 2]]  # OneHotEncoder on y = [3, 1, 2, 3]: classes 1, 2, 3 -> columns
W29 = np.array([[0, 0, 0], [0.02, -0.01, 0.03], [-0.05, 0.04, 0.01], [0.03, 0.02, -0.02]])
W1_NEW = np.array(
    [
        [-0.00016792, -0.00125257, -0.0010004],
        [0.02032425, -0.00924846, 0.02722287],
        [-0.04946549, 0.03749486, 0.01092531],
        [0.0293399, 0.02062628, -0.02024931],
    ]
)
W2_NEW = np.array(
    [
        [-0.00833061, -0.00833205, 0.01666266],
        [0.01845714, -0.0086132, 0.03015606],
        [-0.04873108, 0.03936466, 0.00936642],
        [0.02936574, 0.01906595, -0.0184317],
    ]
)
