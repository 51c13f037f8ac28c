DROP TABLE image_approvals;
DROP TABLE images;
DROP TABLE galleries;
