; plugin-test.scm — drives plug-in-refsr from Script-Fu with named
; arguments, the way a batch user would, and reports each check as a
; "PASS name" or "FAIL name" message for test-plugin.sh.  Images the shell
; side compares with the refsr command are exported into T.
; Expects T (work folder holding lr.png and ref.png), W (weights file) and
; HERE (this folder).
; Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

(load (string-append HERE "/plugin-lib.scm"))

(define lr (load-png "lr.png"))
(define lr-layer (first-layer lr))
(define ref (load-png "ref.png"))
(define ref-layer (first-layer ref))
(define lr-w (width lr-layer))
(define lr-h (height lr-layer))

; --- RGB into a new image: the pixels are compared with the refsr command
(gimp-image-clean-all lr)
(define rgb
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image lr
                      #:drawables (vector lr-layer)
                      #:reference-layer ref-layer #:weights-file W
                      #:output "new-image")))
(report "rgb: result is 4x the layer" (size-is? rgb (* 4 lr-w) (* 4 lr-h)))
(report "rgb: the source image is left alone"
        (and (= (vector-length (layers lr)) 1)
             (= (car (gimp-image-get-width lr)) lr-w)
             (= (car (gimp-image-is-dirty lr)) FALSE)))
(report-name "rgb: named after method and reference" rgb
             (string-append "Reference SR ×4 (ref: " (name-of ref-layer) ")"))
(save-png (image-of rgb) "plugin-rgb.png")
(report "compatibility: a call naming none of the pool, search or scales arguments enlarges"
        (size-is? rgb (* 4 lr-w) (* 4 lr-h)))

; --- a new layer in the enlarged image, 2x, with the confidence map, on a
;     layer with offsets above the background, in tiles of 16 (through the
;     4x buffer that 2x reduces)
(define stack (duplicate lr))
(define target (car (gimp-layer-new-from-drawable lr-layer stack)))
(gimp-image-insert-layer stack target 0 0)
(gimp-layer-set-offsets target 3 5)
(gimp-item-set-name target "Target")
(define two
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image stack
                      #:drawables (vector target) #:reference-layer ref-layer
                      #:weights-file W #:scale "2x" #:confidence-map TRUE
                      #:tile-size 16)))
(define stack-layers (layers stack))
(report "new-layer: the image is enlarged 2x"
        (and (= (car (gimp-image-get-width stack)) (* 2 lr-w))
             (= (car (gimp-image-get-height stack)) (* 2 lr-h))))
(report "new-layer: the other layers are scaled to line up"
        (size-is? (vector-ref stack-layers 3) (* 2 lr-w) (* 2 lr-h)))
(report "new-layer: result is 2x the layer" (size-is? two (* 2 lr-w) (* 2 lr-h)))
(report "new-layer: offsets are scaled"
        (equal? (gimp-drawable-get-offsets two) '(6 10)))
(report "new-layer: result sits right above the target"
        (and (= (vector-length stack-layers) 4)
             (= (vector-ref stack-layers 1) two)
             (= (vector-ref stack-layers 2) target)))
(define confidence (vector-ref stack-layers 0))
(report "confidence map: a hidden layer of the result's size"
        (and (size-is? confidence (* 2 lr-w) (* 2 lr-h))
             (= (car (gimp-item-get-visible confidence)) FALSE)))
(report-name "confidence map: named so" confidence
             (string-append "Reference SR confidence (ref: "
                            (name-of ref-layer) ")"))

; --- alpha: 50% in a rectangle, opaque elsewhere; enlarged separately
(define holey (duplicate lr))
(define holey-layer (first-layer holey))
(gimp-layer-add-alpha holey-layer)
(define mask (car (gimp-layer-create-mask holey-layer ADD-MASK-WHITE)))
(gimp-layer-add-mask holey-layer mask)
(gimp-image-select-rectangle holey CHANNEL-OP-REPLACE 8 8 16 8)
(gimp-context-set-foreground '(128 128 128))
(gimp-drawable-edit-fill mask FILL-FOREGROUND)
(gimp-selection-none holey)
(gimp-layer-remove-mask holey-layer MASK-APPLY)
(save-png holey "lr-alpha.png")
(define alpha
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image holey
                      #:drawables (vector holey-layer)
                      #:reference-layer ref-layer #:weights-file W
                      #:output "new-image")))
(report "alpha: result has an alpha channel"
        (= (car (gimp-drawable-has-alpha alpha)) TRUE))
(save-png (image-of alpha) "plugin-alpha.png")

; --- grey stays grey (the reference is read as grey too)
(define grey (duplicate lr))
(gimp-image-convert-grayscale grey)
(define grey-ref (duplicate ref))
(gimp-image-convert-grayscale grey-ref)
(save-png grey "lr-grey.png")
(save-png grey-ref "ref-grey.png")
(define grey-out
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image grey
                      #:drawables (vector (first-layer grey))
                      #:reference-layer (first-layer grey-ref)
                      #:weights-file W #:output "new-image")))
(report "grey: result image is grey"
        (= (car (gimp-image-get-base-type (image-of grey-out))) GRAY))
(save-png (image-of grey-out) "plugin-grey.png")

; --- 16-bit and 32-bit float keep their precision
(define deep (duplicate lr))
(gimp-image-convert-precision deep PRECISION-U16-NON-LINEAR)
(define deep-out
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image deep
                      #:drawables (vector (first-layer deep))
                      #:reference-layer ref-layer #:weights-file W
                      #:output "new-image")))
(report "16-bit: result image is 16-bit"
        (= (car (gimp-image-get-precision (image-of deep-out)))
           PRECISION-U16-NON-LINEAR))
(save-png (image-of deep-out) "plugin-16.png")
(define float (duplicate lr))
(gimp-image-convert-precision float PRECISION-FLOAT-LINEAR)
(define float-out
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image float
                      #:drawables (vector (first-layer float))
                      #:reference-layer ref-layer #:weights-file W)))
(report "32-bit float: the image keeps its precision, the result is 4x"
        (and (= (car (gimp-image-get-precision float)) PRECISION-FLOAT-LINEAR)
             (size-is? float-out (* 4 lr-w) (* 4 lr-h))))

; --- no reference: the layer is its own reference
(define self
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image lr
                      #:drawables (vector lr-layer) #:weights-file W
                      #:output "new-image")))
(report-name "self-reference: named so" self
             "Reference SR ×4 (self-reference)")
(save-png (image-of self) "plugin-self.png")

; --- tiles: the layer enlarged to 64 x 48 first, then 4x with the
;     reference, whole (tile-size 0, automatic: one tile in the default
;     budget) and in tiles of 32 (four, each computed with its context);
;     test-plugin.sh compares the two.  And the alpha case at 2x in tiles
;     of 16: the alpha comes from the layer's own whatever the tiles.
(define (enlarge-in-tiles image reference tile-size scale)
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image image
                      #:drawables (vector (first-layer image))
                      #:reference-layer reference #:weights-file W
                      #:output "new-image" #:scale scale
                      #:tile-size tile-size)))
(define twice (duplicate lr))
(gimp-image-scale twice (* 2 lr-w) (* 2 lr-h))
(define whole (enlarge-in-tiles twice ref-layer 0 "4x"))
(define tiled (enlarge-in-tiles twice ref-layer 32 "4x"))
(report "tiles: tile-size 32 and 0 give results of the same size"
        (and (size-is? whole (* 8 lr-w) (* 8 lr-h))
             (size-is? tiled (* 8 lr-w) (* 8 lr-h))))
(save-png (image-of whole) "plugin-tile0.png")
(save-png (image-of tiled) "plugin-tile32.png")
(define alpha-tiled (enlarge-in-tiles holey ref-layer 16 "2x"))
(report "tiles: the alpha case at 2x in tiles of 16 keeps its alpha channel"
        (and (= (car (gimp-drawable-has-alpha alpha-tiled)) TRUE)
             (size-is? alpha-tiled (* 2 lr-w) (* 2 lr-h))))
(save-png (image-of alpha-tiled) "plugin-alpha-tiled.png")

; --- a target in a group whose position is locked: the result still goes
;     into the group, above the target, with its offsets scaled (the layer
;     is placed before it joins the group)
(define pinned (duplicate lr))
(define pinned-group (car (gimp-group-layer-new pinned "Pinned group")))
(gimp-image-insert-layer pinned pinned-group 0 0)
(define pinned-target (car (gimp-layer-new-from-drawable lr-layer pinned)))
(gimp-image-insert-layer pinned pinned-target pinned-group 0)
(gimp-layer-set-offsets pinned-target 2 1)
(gimp-item-set-lock-position pinned-group TRUE)
(define pinned-out
  (try (lambda ()
         (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image pinned
                             #:drawables (vector pinned-target)
                             #:reference-layer ref-layer #:weights-file W
                             #:scale "2x")))))
(if (failed? pinned-out)
    (gimp-message (string-append "ERROR position-locked group: "
                                 (cadr pinned-out))))
(report "position-locked group: result above the target, offsets scaled"
        (and (not (failed? pinned-out))
             (equal? (gimp-drawable-get-offsets pinned-out) '(4 2))
             (equal? (vector->list (car (gimp-item-get-children pinned-group)))
                     (list pinned-out pinned-target))))

; --- bad input: a PDB error, and the image exactly as it was
(define tiny (car (gimp-image-new 2 2 RGB)))
(define tiny-layer (car (gimp-layer-new tiny "tiny" 2 2 RGB-IMAGE 100
                                        LAYER-MODE-NORMAL)))
(gimp-image-insert-layer tiny tiny-layer 0 0)
(define clean (duplicate lr))
(gimp-image-clean-all clean)
(report "bad input: a 2x2 reference is refused, image unchanged"
        (refused-unchanged? "2x2 reference" clean (first-layer clean)
                            tiny-layer))
(define indexed (duplicate lr))
(gimp-image-convert-indexed indexed CONVERT-DITHER-NONE
                            CONVERT-PALETTE-GENERATE 16 FALSE FALSE "")
(gimp-image-clean-all indexed)
(report "bad input: an indexed image is refused, image unchanged"
        (refused-unchanged? "indexed" indexed (first-layer indexed) ref-layer))

; --- a target in a group whose pixels are locked: no new layer may go into
;     that group, so the filter refuses before it changes anything
(define locked (duplicate lr))
(define locked-group (car (gimp-group-layer-new locked "Locked group")))
(gimp-image-insert-layer locked locked-group 0 0)
(define locked-target (car (gimp-layer-new-from-drawable lr-layer locked)))
(gimp-image-insert-layer locked locked-target locked-group 0)
(gimp-item-set-lock-content locked-group TRUE)
(gimp-image-clean-all locked)
(report "bad input: a target in a content-locked group is refused, image unchanged"
        (and (refused-unchanged? "content-locked group" locked locked-target
                                 ref-layer)
             (= (vector-length (car (gimp-item-get-children locked-group)))
                1)))

; --- a pool: use-all-layers on an image with two reference layers above
;     the target and a hidden one, which must stay out of the pool; the
;     result is one new layer above the target, named after both
;     references, and the other layers are as they were (enlarged 4x with
;     the image)
(define pooled (duplicate lr))
(define pool-target (first-layer pooled))
(define (add-reference image name visible)
  (let ((layer (car (gimp-layer-new-from-drawable ref-layer image))))
    (gimp-image-insert-layer image layer 0 0)
    (gimp-item-set-name layer name)
    (gimp-item-set-visible layer visible)
    layer))
(define ref-a (add-reference pooled "Ref A" TRUE))
(define ref-b (add-reference pooled "Ref B" TRUE))
(define ref-hidden (add-reference pooled "Hidden" FALSE))
(define pooled-out
  (try (lambda ()
         (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image pooled
                             #:drawables (vector pool-target)
                             #:reference-layer ref-a #:use-all-layers TRUE
                             #:weights-file W)))))
(if (failed? pooled-out)
    (gimp-message (string-append "ERROR pool: " (cadr pooled-out))))
(define pooled-layers (layers pooled))
(report "pool: use-all-layers adds one layer right above the target, 4x"
        (and (not (failed? pooled-out))
             (= (vector-length pooled-layers) 5)
             (= (vector-ref pooled-layers 3) pooled-out)
             (= (vector-ref pooled-layers 4) pool-target)
             (size-is? pooled-out (* 4 lr-w) (* 4 lr-h))))
(report "pool: the other layers keep their order, names and visibility"
        (and (equal? (map name-of (list (vector-ref pooled-layers 0)
                                        (vector-ref pooled-layers 1)
                                        (vector-ref pooled-layers 2)))
                     '("Hidden" "Ref B" "Ref A"))
             (= (car (gimp-item-get-visible ref-hidden)) FALSE)
             (= (car (gimp-item-get-visible ref-b)) TRUE)))
(if (not (failed? pooled-out))
    (report-name "pool: named after both visible references, not the hidden one"
                 pooled-out "Reference SR ×4 (refs: Ref A, Ref B)"))

; --- a pool of the reference and its copy: the copy never wins a tie, so
;     the pixels are the single reference's (test-plugin.sh compares them
;     with the RGB case)
(define twin (duplicate lr))
(define twin-ref (add-reference twin "Twin" TRUE))
(define twin-out
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image twin
                      #:drawables (vector (vector-ref (layers twin) 1))
                      #:reference-layer ref-layer #:use-all-layers TRUE
                      #:weights-file W #:output "new-image")))
(report-name "pool: a reference layer of another image leads the pool" twin-out
             (string-append "Reference SR ×4 (refs: " (name-of ref-layer)
                            ", Twin)"))
(save-png (image-of twin-out) "plugin-twin.png")

; --- the search and the reference scales
(define fast
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image lr
                      #:drawables (vector lr-layer)
                      #:reference-layer ref-layer #:weights-file W
                      #:output "new-image" #:search "fast")))
(report "search: fast enlarges 4x" (size-is? fast (* 4 lr-w) (* 4 lr-h)))
(define as-is
  (car (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image lr
                      #:drawables (vector lr-layer)
                      #:reference-layer ref-layer #:weights-file W
                      #:output "new-image" #:search "exact"
                      #:ref-scales "1")))
(save-png (image-of as-is) "plugin-scale1.png")
(report "ref-scales: \"1\" with an exact search enlarges 4x"
        (size-is? as-is (* 4 lr-w) (* 4 lr-h)))
(define scaled-clean (duplicate lr))
(gimp-image-clean-all scaled-clean)
(define (bad-scales-refused? scales)
  (call-refused-unchanged? (string-append "ref-scales " scales) scaled-clean
    (lambda ()
      (plug-in-refsr #:run-mode RUN-NONINTERACTIVE #:image scaled-clean
                     #:drawables (vector (first-layer scaled-clean))
                     #:reference-layer ref-layer #:weights-file W
                     #:ref-scales scales))))
(report "bad input: ref-scales 1,1 (a scale twice) is refused, image unchanged"
        (bad-scales-refused? "1,1"))
(report "bad input: ref-scales 2 (over 1) is refused, image unchanged"
        (bad-scales-refused? "2"))
(report "bad input: ref-scales half is refused, image unchanged"
        (bad-scales-refused? "half"))
