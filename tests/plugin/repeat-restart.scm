; repeat-restart.scm — after repeat.scm, in a new GIMP session with the
; same profile: the saved image reopened, where its layers have other IDs
; than before (other images come first) and a larger layer has come, a
; repeat finds the reference of the last interactive run again by its
; tattoo and name.
; Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later
(load (string-append HERE "/plugin-lib.scm"))
(load (string-append HERE "/repeat-lib.scm"))

(define (filler)
  (let* ((image (car (gimp-image-new 8 8 RGB)))
         (layer (car (gimp-layer-new image "Filler" 8 8 RGB-IMAGE 100
                                     LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer image layer 0 0)
    image))
(filler)
(filler)
(filler)
(define kept (car (gimp-file-load RUN-NONINTERACTIVE (path "kept.xcf"))))
; a larger layer, which a new proposal would take
(new-layer kept "Decoy" 400 400 FILL-BACKGROUND)
(define (named image name)
  (let loop ((all (vector->list (layers image))))
    (if (string=? (name-of (car all)) name) (car all) (loop (cdr all)))))
(report-name-base "repeat after a restart: the reference found by tattoo and name"
             (car (plug-in-refsr #:run-mode RUN-WITH-LAST-VALS #:image kept
                                 #:drawables (vector (named kept "Kept"))))
             "Reference SR ×4 (ref: Far reference)")
(report "restart batch: done" #t)
