; repeat-lib.scm — what repeat.scm and repeat-restart.scm share, on top
; of plugin-lib.scm.
; Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

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
