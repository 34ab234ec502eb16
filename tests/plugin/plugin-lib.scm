; plugin-lib.scm — what the Script-Fu parts of the plug-in test share:
; loading and saving in the work folder T, reading items, PASS/FAIL
; messages for test-plugin.sh, and catching a PDB error.
; Copyright (C) 2026 the refsr authors. SPDX-License-Identifier: GPL-3.0-or-later

(define (path name) (string-append T "/" name))
(define (load-png name) (car (gimp-file-load RUN-NONINTERACTIVE (path name))))
(define (save-png image name)
  (gimp-file-save RUN-NONINTERACTIVE image (path name) -1))
(define (layers image) (car (gimp-image-get-layers image)))
(define (first-layer image) (vector-ref (layers image) 0))
(define (width d) (car (gimp-drawable-get-width d)))
(define (height d) (car (gimp-drawable-get-height d)))
(define (image-of item) (car (gimp-item-get-image item)))
(define (name-of item) (car (gimp-item-get-name item)))
(define (report name ok)
  (gimp-message (string-append (if ok "PASS " "FAIL ") name)))
(define (report-name name item expected)
  (report (string-append name ": " (name-of item))
          (string=? (name-of item) expected)))
(define (size-is? d w h) (and (= (width d) w) (= (height d) h)))
(define (duplicate image) (car (gimp-image-duplicate image)))

; Runs thunk; on a PDB error returns (failed MESSAGE) instead of stopping.
(define (try thunk)
  (call/cc
    (lambda (k)
      (let ((old *error-hook*))
        (set! *error-hook*
              (lambda args (set! *error-hook* old) (k (cons 'failed args))))
        (let ((value (thunk)))
          (set! *error-hook* old)
          value)))))
(define (failed? value) (and (pair? value) (eq? (car value) 'failed)))

; Runs call (a thunk calling the plug-in on image) where it must refuse:
; a PDB error (its message sent as "ERROR label: ..."), and the image
; exactly as it was.
(define (call-refused-unchanged? label image call)
  (let* ((before (vector-length (layers image)))
         (w (car (gimp-image-get-width image)))
         (result (try call)))
    (if (failed? result) (gimp-message (string-append "ERROR " label ": "
                                                      (cadr result))))
    (and (failed? result)
         (= (vector-length (layers image)) before)
         (= (car (gimp-image-get-width image)) w)
         (= (car (gimp-image-is-dirty image)) FALSE))))

; The plug-in on layer with reference (W's weights), where it must refuse.
(define (refused-unchanged? label image layer reference)
  (call-refused-unchanged? label image
    (lambda ()
      (plug-in-refsr #:run-mode RUN-NONINTERACTIVE
                     #:image image #:drawables (vector layer)
                     #:reference-layer reference
                     #:weights-file W))))
