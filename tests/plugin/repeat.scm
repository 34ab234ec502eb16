; repeat.scm — the reference across runs (see test-repeat.sh): an
; interactive run with the dialog accepted as it opens
; (REFSR_TEST_ACCEPT_DIALOG=1) proposes the largest other layer; a repeat
; (RUN-WITH-LAST-VALS) uses that reference again, even when a larger layer
; has come; once it is gone, the repeat says so and uses the proposal.
; Then where the selection ends: on the result, not the confidence map,
; for New image and New layer.
; Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
(load (string-append HERE "/plugin-lib.scm"))

(define (new-layer image name w h fill)
  (let ((layer (car (gimp-layer-new image name w h RGB-IMAGE 100
                                    LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer image layer 0 0)
    (gimp-drawable-fill layer fill)
    layer))

(define (selected image) (car (gimp-image-get-selected-layers image)))
(define (only-selected? image layer)
  (let ((chosen (selected image)))
    (and (= (vector-length chosen) 1) (= (vector-ref chosen 0) layer))))

; GIMP makes layer names unique with " #1" and so on: the name is checked
; up to that, which TAP would read as a directive.
(define (report-name-base name item expected)
  (let* ((actual (name-of item))
         (n (string-length expected)))
    (report (string-append name ": " expected)
            (and (>= (string-length actual) n)
                 (string=? (substring actual 0 n) expected)
                 (or (= (string-length actual) n)
                     (string=? (substring actual n (+ n 2)) " #"))))))

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
(report "repeat batch: done" #t)
