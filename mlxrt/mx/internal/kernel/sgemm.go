package kernel

// SgemmNT computes C[i*ldc+j] = Σ_p A[i*lda+p]·B[j*ldb+p] for i < m, j < n
// (C = A·Bᵀ, both operands row-major with k-long rows), overwriting C.
func SgemmNT(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	_ = a[(m-1)*lda+k-1]
	_ = b[(n-1)*ldb+k-1]
	_ = c[(m-1)*ldc+n-1]
	sgemmNT(m, n, k, a, lda, b, ldb, c, ldc)
}

func sgemmNTGo(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ai := a[i*lda : i*lda+k]
		for j := 0; j < n; j++ {
			c[i*ldc+j] = dotF32Go(ai, b[j*ldb:j*ldb+k])
		}
	}
}
