; repeat.scm — the reference across runs (see test-repeat.sh): an
; interactive run with the dialog accepted as it opens
; (REFSR_TEST_ACCEPT_DIALOG=1) proposes the largest other layer; a repeat
; (RUN-WITH-LAST-VALS) uses that reference again, even when a larger layer
; has come; once it is gone, the repeat says so and uses the proposal.
; Then where the selection ends: on the result, not the confidence map,
; for New image and New layer.
; Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
(load (string-append HERE "/plugin-lib.scm"))
(load (string-append HERE "/repeat-lib.scm"))

(define (run mode image target)
  (car (plug-in-refsr #:run-mode mode #:image image
                      #:drawables (vector target))))

(define image (car (gimp-image-new 24 24 RGB)))
(define sharp (new-layer image "Sharp photo" 40 40 FILL-FOREGROUND))
(define target (new-layer image "Soft" 24 24 FILL-WHITE))

; (a) a fresh profile: the dialog proposes the largest other layer
(define first-result (run RUN-INTERACTIVE image target))
(report-name "interactive run: the default reference is the largest other layer"
             first-result "Reference SR ×4 (ref: Sharp photo)")

; (b) a larger layer now, which a new proposal would take: the repeat
;     keeps the reference of the last interactive run
(define decoy (new-layer image "Decoy" 200 200 FILL-BACKGROUND))
(gimp-image-set-selected-layers image (vector target))
(report-name-base "repeat: the reference of the last interactive run"
             (run RUN-WITH-LAST-VALS image target)
             "Reference SR ×4 (ref: Sharp photo)")

; (d) the reference is gone: the repeat falls back to the proposal (on
;     a small image of its own, whose layer of the same tattoo is another)
(gimp-image-remove-layer image sharp)
(define other (car (gimp-image-new 24 24 RGB)))
(new-layer other "Decoy" 32 32 FILL-FOREGROUND)
(define other-target (new-layer other "Other" 24 24 FILL-WHITE))
(report-name "repeat without the last reference: the proposal instead"
             (run RUN-WITH-LAST-VALS other other-target)
             "Reference SR ×4 (ref: Decoy)")

; (e) New image: the result is the selected layer, not the map above it
(define small (car (gimp-image-new 24 24 RGB)))
(define small-ref (new-layer small "Detail" 32 32 FILL-FOREGROUND))
(define small-target (new-layer small "Small" 24 24 FILL-WHITE))
(define new-image-result
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image small
                      #:drawables (vector small-target)
                      #:reference-layer small-ref #:weights-file W
                      #:output "new-image" #:confidence-map TRUE)))
(define new-image (image-of new-image-result))
(report "new image: the result, not the confidence map, is selected"
        (and (= (vector-length (layers new-image)) 2)
             (only-selected? new-image new-image-result)))

; New layer with a confidence map, run while the reference is the
; selected layer: the result, not the map, is selected afterwards
; (Edit ▸ Undo, which Script-Fu cannot call, gives back the target, which
; the plug-in selects before adding the layers)
(gimp-image-set-selected-layers small (vector small-ref))
(define new-layer-result
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image small
                      #:drawables (vector small-target)
                      #:reference-layer small-ref #:weights-file W
                      #:confidence-map TRUE)))
(report "new layer: the result, not the confidence map, is selected"
        (only-selected? small new-layer-result))
;  (f) kept across a restart of GIMP (repeat-restart.scm goes on): the
;      last interactive run, on an image saved as XCF
(define kept (car (gimp-image-new 24 24 RGB)))
(new-layer kept "Far reference" 40 40 FILL-FOREGROUND)
(define kept-target (new-layer kept "Kept" 24 24 FILL-WHITE))
(report-name "interactive run before the restart"
             (run RUN-INTERACTIVE kept kept-target)
             "Reference SR ×4 (ref: Far reference)")
(gimp-file-save RUN-NONINTERACTIVE kept (path "kept.xcf") -1)
(report "repeat batch: done" #t)
