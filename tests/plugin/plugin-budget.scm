; plugin-budget.scm — run by test-plugin.sh in a GIMP started with a
; memory budget (REFSR_MEMORY_BUDGET_MIB) that no tiles fit: the plug-in
; must refuse before reading a pixel, with a message saying so, leave the
; image as it was and open no other.
; Expects T (work folder holding lr.png and ref.png), W (weights file) and
; HERE (this folder).
; Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

(load (string-append HERE "/plugin-lib.scm"))

(define lr (load-png "lr.png"))
(define ref (load-png "ref.png"))
(gimp-image-clean-all lr)
(define images-before (vector-length (car (gimp-get-images))))
(report "memory budget: a run no tiles fit is refused, image unchanged"
        (refused-unchanged? "memory budget" lr (first-layer lr)
                            (first-layer ref)))
(report "memory budget: no image is left behind"
        (= (vector-length (car (gimp-get-images))) images-before))
