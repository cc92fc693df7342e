#import "OPSService.h"

@implementation OPSService
- (NSString *)describe {
    return self.name;
}
@end
